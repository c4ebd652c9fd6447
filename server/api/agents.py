"""GET|POST /api/agents: registered edge agents, whether each is connected now, and what it
last reported of its lines."""

from __future__ import annotations

from litestar import delete, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from sms.model import Direction, MessageState

from ..agents.store import line_statuses
from ..db.tables import Account, AccountLine, Agent, Message
from ..routing.load import line_loads
from ..runtime import Server
from ..tokens import AGENT_PREFIX, hash_token, new_token
from .auth import Caller, CallerDep, ServerDep, require_admin
from .errors import AUTH, conflict, documented, not_found
from .schemas import AgentCreated, AgentIn, AgentOut


@get(
    "/api/agents",
    summary="List agents with their accounts and queue depth (admin)",
    security=AUTH,
    responses=documented(401, 403),
)
async def list_agents(server: ServerDep, caller: CallerDep) -> list[AgentOut]:
    require_admin(caller)
    return await overview(server)


async def overview(server: Server) -> list[AgentOut]:
    """Each agent, its lines and what it last reported of them (API and agents page)."""
    async with server.sessions() as session:
        agents = (await session.execute(select(Agent).order_by(Agent.name))).scalars().all()
        lines = (await session.execute(select(AccountLine.agent, AccountLine.line))).all()
        # Queued messages of the accounts with a line on each agent (an account with
        # lines on two agents counts for both: either may send them).
        depth = (
            await session.execute(
                select(AccountLine.agent, func.count(Message.seq.distinct()))
                .join(Message, Message.account_id == AccountLine.account_id)
                .join(Account, Account.id == AccountLine.account_id)
                .where(
                    Message.direction == Direction.OUT.value,
                    Message.state == MessageState.QUEUED.value,
                )
                .group_by(AccountLine.agent)
            )
        ).all()
        statuses = await line_statuses(session)
        loads = await line_loads(session)
    by_agent: dict[str, list[str]] = {}
    for agent_name, line_name in lines:
        by_agent.setdefault(agent_name, []).append(line_name)
    queued = dict(depth)
    return [
        AgentOut(
            name=a.name,
            online=a.connection is not None,
            lines=sorted(by_agent.get(a.name, [])),
            queue_depth=int(queued.get(a.name, 0)),
            last_seen_at=a.last_seen_at,
            line_status=sorted(statuses.get(a.name, []), key=lambda st: st.line),
            line_load=sorted((x for x in loads if x.agent == a.name), key=lambda x: x.line),
        )
        for a in agents
    ]


@post(
    "/api/agents",
    status_code=201,
    summary="Register an agent (admin); the token is shown once",
    security=AUTH,
    responses=documented(400, 401, 403, 409),
)
async def create_agent(
    server: ServerDep, caller: CallerDep, data: JSONBody[AgentIn]
) -> AgentCreated:
    require_admin(caller)
    token = new_token(AGENT_PREFIX)
    try:
        async with server.sessions.begin() as session:
            session.add(Agent(name=data.name, token_hash=hash_token(token)))
    except IntegrityError:
        raise conflict("name_taken", f"an agent named {data.name!r} already exists") from None
    return AgentCreated(data.name, token)


# The connection of an agent whose token changed or that was removed is closed at once
# (wherever it is: Hub.notify reaches other replicas too); it cannot come back with the
# old token.
CLOSE = "close"


@post(
    "/api/agents/{name:str}/token",
    status_code=200,
    summary="Give an agent a new token (admin); the old one stops at once",
    security=AUTH,
    responses=documented(401, 403, 404),
)
async def rotate_agent_token(
    server: ServerDep, caller: CallerDep, name: FromPath[str]
) -> AgentCreated:
    return await rotate_token(server, caller, name)


async def rotate_token(server: Server, caller: Caller, name: str) -> AgentCreated:
    require_admin(caller)
    token = new_token(AGENT_PREFIX)
    async with server.sessions.begin() as session:
        done = await session.execute(
            update(Agent).where(Agent.name == name).values(token_hash=hash_token(token))
        )
        if done.rowcount == 0:
            raise not_found(f"agent {name!r}")
    await server.hub.notify(name, CLOSE)
    return AgentCreated(name, token)


@delete(
    "/api/agents/{name:str}",
    status_code=204,
    summary="Remove an agent (admin): its token stops, its connection is closed",
    security=AUTH,
    responses=documented(401, 403, 404),
)
async def delete_agent(server: ServerDep, caller: CallerDep, name: FromPath[str]) -> None:
    await remove(server, caller, name)


async def remove(server: Server, caller: Caller, name: str) -> None:
    """Its accounts stay (they name the agent until edited) and say it is not registered."""
    require_admin(caller)
    async with server.sessions.begin() as session:
        done = await session.execute(sql_delete(Agent).where(Agent.name == name))
        if done.rowcount == 0:
            raise not_found(f"agent {name!r}")
    await server.hub.notify(name, CLOSE)
