"""Reading events in order after a cursor, waiting for new ones, and keeping them only for
the retention period. A cursor is an event's `seq` as text; "0" is the beginning."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from ..db.tables import Event, Meta, utc
from .bell import Bell

log = logging.getLogger("smsbridge.server.events")

PRUNED = "events.pruned_through"  # meta: the highest seq deleted by retention
MAX_WAIT = 60.0
# Without a bell from another process (SQLite shared by --workers), look again this often.
RECHECK = 1.0


class EventOut(msgspec.Struct):
    id: str
    type: str
    time: dt.datetime
    data: msgspec.Raw


class EventPage(msgspec.Struct):
    events: list[EventOut]
    next: str  # pass as `after` next time (also when `events` is empty)


class CursorGone(Exception):
    """The cursor is older than the retention: events after it were deleted."""


def payload(seq_row: Any) -> bytes:
    """An event as the feed and the webhooks send it."""
    return msgspec.json.encode(to_out(seq_row))


def to_out(e: Any) -> EventOut:
    """`e`: an Event, or a row with its id, type, time and data."""
    return EventOut(e.id, e.type, utc(e.time) or e.time, msgspec.Raw(e.data.encode()))


async def page(
    sessions: async_sessionmaker,
    bell: Bell,
    visible: ColumnElement[bool],
    after: int | None,
    types: Sequence[str],
    limit: int,
    wait: float,
) -> EventPage:
    deadline = time.monotonic() + min(wait, MAX_WAIT)
    while True:
        ticket = bell.ticket()
        async with sessions() as session:
            pruned = int((await session.get(Meta, PRUNED) or Meta(value="0")).value)
            if after is None:
                after = pruned  # from the oldest event kept
            if after < pruned:
                raise CursorGone(
                    f"after: events up to {pruned} are past the retention and deleted; "
                    "start again without `after` (or from a newer cursor)"
                )
            # Up to the newest seq now: seq order is commit order (outbox.py), so nothing
            # at or below it can still appear, and the next cursor may pass invisible ones.
            top = (await session.execute(select(func.max(Event.seq)))).scalar() or 0
            query = select(Event).where(Event.seq > after, Event.seq <= top, visible)
            if types:
                query = query.where(Event.type.in_(list(types)))
            rows = (await session.execute(query.order_by(Event.seq).limit(limit))).scalars().all()
        if rows:
            last = rows[-1].seq if len(rows) == limit else top
            return EventPage([to_out(e) for e in rows], str(last))
        after = max(after or 0, top)
        left = deadline - time.monotonic()
        if left <= 0 or bell.closing:
            return EventPage([], str(after))
        await bell.wait(ticket, min(left, RECHECK))


async def prune(sessions: async_sessionmaker, retention: dt.timedelta) -> int:
    """Delete events older than `retention`; remember the highest seq deleted. The newest
    event always stays: SQLite would otherwise hand out its seq again after an empty
    table, below the cursors the CRM holds."""
    cutoff = dt.datetime.now(dt.UTC) - retention
    async with sessions.begin() as session:
        top = (
            await session.execute(select(func.max(Event.seq)).where(Event.time < cutoff))
        ).scalar()
        newest = (await session.execute(select(func.max(Event.seq)))).scalar()
        if top is None or newest is None:
            return 0
        top = min(top, newest - 1)
        if top <= 0:
            return 0
        result = await session.execute(delete(Event).where(Event.seq <= top))
        meta = await session.get(Meta, PRUNED)
        if meta is None:
            session.add(Meta(key=PRUNED, value=str(top)))
        elif int(meta.value) < top:
            meta.value = str(top)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class Pruner:
    """Prunes at start and every `every` seconds (any process may: it is idempotent)."""

    def __init__(
        self, sessions: async_sessionmaker, retention: dt.timedelta, every: float = 3600.0
    ) -> None:
        self._sessions = sessions
        self.retention = retention
        self.every = every
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="events-pruner")

    async def _run(self) -> None:
        while True:
            try:
                deleted = await prune(self._sessions, self.retention)
                if deleted:
                    log.info("deleted %d events past the retention", deleted)
            except Exception:
                log.exception("pruning events failed")
            await asyncio.sleep(self.every)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
