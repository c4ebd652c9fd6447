"""What each line is doing now, for GET /api/agents and /metrics: segments sent in the
current minute and day against its budgets, and why it takes no jobs."""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from .planner import why_not_taking
from .store import counters, line_rows, line_state


class LineLoad(msgspec.Struct):
    agent: str
    line: str  # its name on the agent
    account: str
    account_id: int
    position: int  # 1: the account's unprefixed keys; N: its `lineN.` keys
    up: bool
    busy: bool  # a modem line with a job in flight (it takes one at a time)
    in_flight: int
    segments_minute: int  # sent in the last 60 s (in flight counted as now)
    segments_day: int  # sent in the last 24 h
    per_minute: int | None
    per_day: int | None
    per_recipient_day: int | None
    taking_jobs: bool
    # Why it takes no job now: "agent offline", "down", "busy", "over per_minute: ...",
    # "over per_day: ...". None while it takes jobs.
    why_not: str | None = None
    failing_since: dt.datetime | None = None


async def line_loads(session: AsyncSession, now: dt.datetime | None = None) -> list[LineLoad]:
    now = now or dt.datetime.now(dt.UTC)
    rows = await line_rows(session)
    stats = await counters(session, [r.key for r in rows], now)
    out = []
    for row in rows:
        state = line_state(row, stats[row.key], local=True)
        why = why_not_taking(state)
        out.append(
            LineLoad(
                agent=row.agent,
                line=row.line,
                account=row.account,
                account_id=row.account_id,
                position=row.position,
                up=row.up,
                busy=state.busy,
                in_flight=state.in_flight,
                segments_minute=state.sent_minute,
                segments_day=state.sent_day,
                per_minute=row.per_minute,
                per_day=row.per_day,
                per_recipient_day=row.per_recipient_day,
                taking_jobs=why is None,
                why_not=why,
                failing_since=state.failing_since,
            )
        )
    return out
