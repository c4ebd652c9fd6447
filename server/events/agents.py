"""The events of agents and their lines: agent.online / agent.offline when its connection
comes and goes, line.up / line.down when a line's reported state flips, line.balance_low
when a SIM's balance falls below the line's `balance_low`, call.missed when a modem line
hung up a call. Called from the bridge's paths (agents/endpoint.py, agents/store.py)
inside their transactions."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge import protocol as p

from ..db.tables import Agent, AgentLine
from . import outbox


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def connecting(session: AsyncSession, agent: Agent, connection: str) -> None:
    """Before the agent's connection is recorded: online, unless a connection of it was
    already there (a reconnect that overtook the old one's goodbye)."""
    before = (await session.execute(select(Agent.connection).where(Agent.id == agent.id))).scalar()
    if before is None:
        await outbox.write(
            session,
            [
                outbox.event_row(
                    "agent.online", _now(), f"agent:{agent.name}", {"agent": agent.name}
                )
            ],
        )


async def disconnecting(session: AsyncSession, agent: Agent, connection: str) -> None:
    """Before the connection is cleared: offline, unless a newer one has taken over."""
    current = (await session.execute(select(Agent.connection).where(Agent.id == agent.id))).scalar()
    if current == connection:
        await outbox.write(
            session,
            [
                outbox.event_row(
                    "agent.offline", _now(), f"agent:{agent.name}", {"agent": agent.name}
                )
            ],
        )


async def line_status(session: AsyncSession, agent: Agent, status: p.LineStatus) -> None:
    """Before the status is saved: line.up / line.down when `up` differs from the last
    one saved (a first status that is down counts as a change, a first up too)."""
    before = (
        await session.execute(
            select(AgentLine.up).where(
                AgentLine.agent_id == agent.id, AgentLine.line == status.line
            )
        )
    ).first()
    if before is None or bool(before[0]) != status.up:
        data: dict[str, object] = {"agent": agent.name, "line": status.line}
        if not status.up:
            data["reason"] = status.last_error or status.detail or "down"
        elif status.detail:
            data["detail"] = status.detail
        await outbox.write(
            session,
            [
                outbox.event_row(
                    "line.up" if status.up else "line.down",
                    status.at,
                    f"line:{agent.name}/{status.line}",
                    data,
                )
            ],
        )
    await _balance(session, agent, status)


async def _balance(session: AsyncSession, agent: Agent, status: p.LineStatus) -> None:
    """line.balance_low once when the balance goes below the line's limit (not again for
    each status while it stays low)."""
    if not status.balance_low:
        return
    saved = (
        await session.execute(
            select(AgentLine.status).where(
                AgentLine.agent_id == agent.id, AgentLine.line == status.line
            )
        )
    ).scalar()
    if saved and msgspec.json.decode(saved).get("balance_low"):
        return
    await outbox.write(
        session,
        [
            outbox.event_row(
                "line.balance_low",
                status.balance_at or status.at,
                f"line:{agent.name}/{status.line}",
                {"agent": agent.name, "line": status.line, "balance": status.balance},
            )
        ],
    )


async def call_missed(
    session: AsyncSession, agent: Agent, call: p.CallMissed, account_id: int | None
) -> None:
    """A call the line hung up (stored by calls.py in the same transaction)."""
    at = call.time or _now()
    await outbox.write(
        session,
        [
            outbox.event_row(
                "call.missed",
                at,
                f"line:{agent.name}/{call.line}",
                {
                    "agent": agent.name,
                    "line": call.line,
                    "from": call.caller,
                    "time": at,
                    "account": account_id,
                },
            )
        ],
    )
