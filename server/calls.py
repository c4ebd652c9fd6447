"""Incoming calls that modem lines hung up (issue 17): stored from the agent's CallMissed
events, listed by GET /api/calls, and a call.missed event for the CRM (events/agents.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge import protocol as p

from .db.tables import Account, AccountLine, Agent, Call, utc, utcnow
from .events import agents as agent_events


async def store_call(session: AsyncSession, agent: Agent, event: p.CallMissed) -> Call:
    """Kept even when no account names the line: a missed call is never thrown away."""
    account_id = (
        await session.execute(
            select(Account.id)
            .join(AccountLine, AccountLine.account_id == Account.id)
            .where(AccountLine.agent == agent.name, AccountLine.line == event.line)
        )
    ).scalar()
    call = Call(
        agent=agent.name,
        line=event.line,
        account_id=account_id,
        caller=event.caller[:40],
        at=event.time or utcnow(),
    )
    session.add(call)
    await session.flush()
    await agent_events.call_missed(session, agent, event, account_id)
    return call


async def recent_calls(
    session: AsyncSession, limit: int = 100, before: int | None = None
) -> list[tuple[Call, str | None]]:
    """The newest calls first, each with its account's name (None: no account)."""
    query = (
        select(Call, Account.name)
        .outerjoin(Account, Account.id == Call.account_id)
        .order_by(Call.id.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(Call.id < before)
    return [(call, name) for call, name in (await session.execute(query)).all()]


def call_time(call: Call) -> dt.datetime:
    when = utc(call.at)
    assert when is not None
    return when
