"""The events of agents and their lines: agent.online / agent.offline when its connection
comes and goes, line.up / line.down when a line's reported state flips. Called from the
bridge's paths (agents/endpoint.py, agents/store.py) inside their transactions."""

from __future__ import annotations

import datetime as dt

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
    if before is not None and bool(before[0]) == status.up:
        return
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
