"""The bridge's database work: giving back an agent's job leases, applying its events
once, keeping its lines' statuses, and building the configuration of every line it is
pushed. Which line sends which job is decided in server/routing/."""

from __future__ import annotations

import datetime as dt
import logging

import msgspec
from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bridge import protocol as p
from sms.model import GatewayType, MessageState

from ..accounts.config import stored_values
from ..accounts.lines import account_lines
from ..calls import store_call
from ..db.tables import Account, AccountLine, Agent, AgentEvent, AgentLine, Message, PartReport
from ..events import agents as agent_events
from ..keys import SecretBox
from ..messages import changes
from ..messages.inbound import store_inbound
from ..routing.store import line_key

log = logging.getLogger("smsbridge.server.agents")

AGENT_GATEWAYS = tuple(g.value for g in GatewayType if g.runs_on_agent)
EVENT_RETENTION = dt.timedelta(days=30)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def agent_pushes(session: AsyncSession, agent: str, box: SecretBox) -> list[p.ConfigPush]:
    """The configuration of every line on `agent`, from any account."""
    rows = (
        await session.execute(
            select(Account, AccountLine.position)
            .join(AccountLine, AccountLine.account_id == Account.id)
            .where(AccountLine.agent == agent, Account.gateway.in_(AGENT_GATEWAYS))
            .order_by(AccountLine.line)
        )
    ).all()
    pushes = []
    for account, position in rows:
        specs = account_lines(
            account.name, stored_values(account.config), box.open(account.secrets)
        )
        for spec in specs:
            if spec.position == position:
                pushes.append(
                    p.ConfigPush(
                        line=spec.name,
                        gateway=account.gateway,  # type: ignore[arg-type]
                        config=spec.config,
                        account=account.id,
                        poll_incoming=account.poll_incoming,
                    )
                )
    return pushes


async def release_leases(session: AsyncSession, owner: str | None, agent: str) -> None:
    """An agent that goes away gives its unacknowledged jobs back at once; they keep
    their line (the agent may have stored them before its ack was lost: another line
    could send them twice), and go to it again when it is back. `owner` None: whoever
    leased them (an agent that connects here is no longer connected elsewhere)."""
    lines = (
        (await session.execute(select(AccountLine.line).where(AccountLine.agent == agent)))
        .scalars()
        .all()
    )
    query = update(Message).where(
        Message.state == MessageState.QUEUED.value,
        Message.line.in_([line_key(agent, line) for line in lines]),
        Message.lease_owner.is_not(None),
    )
    if owner is not None:
        query = query.where(Message.lease_owner == owner)
    await session.execute(query.values(lease_owner=None, lease_until=None))


async def jobs_acked(session: AsyncSession, acks: list[p.JobAck], owner: str) -> None:
    accepted = [a.id for a in acks if a.accepted]
    await changes.dispatched(session, accepted, now())
    for ack in acks:
        if not ack.accepted:
            # Refused (outbox or disk full): it stays queued; the lease keeps it back a while.
            # The agent did not store it: it may go to any line again.
            await session.execute(
                update(Message)
                .where(Message.id == ack.id, Message.lease_owner == owner)
                .values(
                    detail=f"agent refused it for now: {ack.reason}: {ack.detail or ''}",
                    line=None,
                    route=None,
                )
            )


_UPSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


async def _first_time(session: AsyncSession, agent_id: int, event_id: int) -> bool:
    """Record the event as applied; False when it already was (a resend)."""
    insert = _UPSERT[session.bind.dialect.name]
    result = await session.execute(
        insert(AgentEvent)
        .values(agent_id=agent_id, event_id=event_id, applied_at=now())
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)


async def _advance(
    session: AsyncSession,
    message_id: str,
    state: MessageState,
    at: dt.datetime,
    reason: str | None = None,
    detail: str | None = None,
) -> None:
    await changes.advance(session, message_id, state, at, reason, detail)


async def apply_event(
    session: AsyncSession, agent: Agent, event: p.Event, kinds: dict[str, str] | None = None
) -> None:
    """Apply one event, exactly once per (agent, event_id). `kinds`: line → gateway, as
    the agent's Hello said, for an SMS on a line no account names."""
    if not await _first_time(session, agent.id, event.event_id):
        return
    match event:
        case p.Dispatched():
            await _advance(session, event.job_id, MessageState.DISPATCHED, event.at)
        case p.Sent():
            await _advance(session, event.job_id, MessageState.SENT, event.at)
            # A status report may have overtaken this news: keep when it was sent all
            # the same (it paces the line).
            await session.execute(
                update(Message)
                .where(Message.id == event.job_id, Message.sent_at.is_(None))
                .values(sent_at=event.at)
            )
            for ref in event.parts or [p.PartRef(1, None)]:
                await _part(session, event.job_id, ref.part, None, None)
            await _delivered_if_whole(session, event.job_id, event.at)
        case p.Delivered() if event.final and event.delivered:
            await _part(session, event.job_id, event.part, True, event.status, event.at)
            await _delivered_if_whole(session, event.job_id, event.at)
        case p.Delivered() if event.final:
            await _part(session, event.job_id, event.part, False, event.status, event.at)
            await _advance(
                session,
                event.job_id,
                MessageState.FAILED,
                event.at,
                reason="not-delivered",
                detail=f"status report {event.status}: {event.detail}",
            )
        case p.Delivered():
            pass  # the network is still trying: not a state change
        case p.Failed():
            await _advance(
                session, event.job_id, MessageState.FAILED, event.at, event.reason, event.detail
            )
        case p.CallMissed():
            await store_call(session, agent, event)
        case p.Received():
            account = (
                await session.execute(
                    select(Account)
                    .join(AccountLine, AccountLine.account_id == Account.id)
                    .where(AccountLine.agent == agent.name, AccountLine.line == event.line)
                )
            ).scalar()
            if account is not None:
                # Replies go out on the line it came on.
                line = line_key(agent.name, event.line)
                await store_inbound(session, account, event.sender, event.text, event.at, line=line)
            else:
                # Kept all the same, unattached: an inbound SMS is never thrown away.
                log.warning("agent %s: SMS on unknown line %s kept", agent.name, event.line)
                await store_inbound(
                    session,
                    None,
                    event.sender,
                    event.text,
                    event.at,
                    gateway=(kinds or {}).get(event.line, "modem"),
                    detail=f"arrived on line {event.line!r} of agent {agent.name!r}, "
                    "which no account names",
                )


async def _part(
    session: AsyncSession,
    message_id: str,
    part: int,
    delivered: bool | None,
    status: int | None,
    at: dt.datetime | None = None,
) -> None:
    """Record a part as sent (delivered None) or finally reported; a report is never
    overwritten by the later news that the part was sent."""
    insert = _UPSERT[session.bind.dialect.name]
    stmt = insert(PartReport).values(
        message_id=message_id, part=part, delivered=delivered, status=status
    )
    if delivered is None:
        await session.execute(stmt.on_conflict_do_nothing())
    else:
        await changes.part_reported(session, message_id, part, delivered, status, at or now())
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["message_id", "part"],
                set_={"delivered": delivered, "status": status},
            )
        )


async def _delivered_if_whole(session: AsyncSession, message_id: str, at: dt.datetime) -> None:
    """Delivered once every part the device sent (or, before the agent said which, every
    part of the message) has a final report saying so. A report for part 1 that beats
    the news of part 2 failing must not make a half-sent message `delivered`."""
    message = (
        await session.execute(select(Message.parts, Message.state).where(Message.id == message_id))
    ).first()
    if message is None:
        return
    rows = (
        await session.execute(
            select(PartReport.delivered).where(PartReport.message_id == message_id)
        )
    ).all()
    sent_known = message.state in (MessageState.SENT.value, MessageState.DELIVERED.value)
    expected = len(rows) if sent_known else message.parts
    if sum(1 for (d,) in rows if d) >= max(1, expected):
        await _advance(session, message_id, MessageState.DELIVERED, at)


async def save_line_status(session: AsyncSession, agent: Agent, status: p.LineStatus) -> None:
    await agent_events.line_status(session, agent, status)
    insert = _UPSERT[session.bind.dialect.name]
    body = msgspec.json.encode(status).decode()
    stmt = insert(AgentLine).values(
        agent_id=agent.id, line=status.line, up=status.up, status=body, updated_at=now()
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["agent_id", "line"],
            set_={"up": status.up, "status": body, "updated_at": now()},
        )
    )


async def line_statuses(session: AsyncSession) -> dict[str, list[p.LineStatus]]:
    rows = (
        await session.execute(
            select(Agent.name, AgentLine.status).join(Agent, Agent.id == AgentLine.agent_id)
        )
    ).all()
    out: dict[str, list[p.LineStatus]] = {}
    for name, body in rows:
        out.setdefault(name, []).append(msgspec.json.decode(body, type=p.LineStatus))
    return out


async def set_connection(session: AsyncSession, agent_id: int, connection: str | None) -> None:
    await session.execute(
        update(Agent).where(Agent.id == agent_id).values(connection=connection, last_seen_at=now())
    )


async def drop_connection(session: AsyncSession, agent_id: int, connection: str) -> None:
    """Mark the agent offline, unless a newer connection has already taken over."""
    await session.execute(
        update(Agent)
        .where(and_(Agent.id == agent_id, Agent.connection == connection))
        .values(connection=None, last_seen_at=now())
    )


async def prune_events(session: AsyncSession) -> None:
    await session.execute(delete(AgentEvent).where(AgentEvent.applied_at < now() - EVENT_RETENTION))
