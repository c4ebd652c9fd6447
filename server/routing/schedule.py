"""Scheduled messages: rows in state `scheduled` (they survive restarts), turned `queued`
and handed to their gateway when their send_at comes — for a web gateway also only
outside its account's quiet time — or failed with reason `expired` when their
valid_until passes first.

One task sleeps until the next such moment (or until a new scheduled message wakes it,
or at most SWEEP_SECONDS, for rows another server process wrote): no busy loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from sms.model import Direction, GatewayType, MessageState

from ..background import stop_loop
from ..db.tables import Message, utc
from ..gateways.base import Job
from ..messages import changes
from .store import expire
from .timing import DEFAULT_ZONE, Priority, describe_until, quiet_of, quiet_until

if TYPE_CHECKING:
    from ..accounts.cache import AccountCache, AccountView
    from ..gateways.base import Registry

log = logging.getLogger("smsbridge.server.schedule")

SWEEP_SECONDS = 30.0
BATCH = 5000  # due messages promoted per transaction; more starts another round at once
SCHEDULED = MessageState.SCHEDULED.value


async def due_rows(session: AsyncSession, now: dt.datetime, limit: int) -> list[Message]:
    rows = await session.execute(
        select(Message)
        .where(
            Message.state == SCHEDULED,
            Message.direction == Direction.OUT.value,
            or_(Message.send_at.is_(None), Message.send_at <= now),
        )
        .order_by(Message.priority, Message.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.scalars())


async def next_due(session: AsyncSession, now: dt.datetime) -> dt.datetime | None:
    """The earliest future send_at or valid_until of a scheduled message."""
    row = (
        await session.execute(
            select(
                func.min(Message.send_at).filter(Message.send_at > now),
                func.min(Message.valid_until),
            ).where(Message.state == SCHEDULED)
        )
    ).first()
    if row is None:
        return None
    times = [t for t in (utc(row[0]), utc(row[1])) if t is not None]
    return min(times, default=None)


class Scheduler:
    def __init__(
        self,
        sessions,  # async_sessionmaker
        accounts: AccountCache,
        gateways: Registry,
        default_zone: str = DEFAULT_ZONE,
    ) -> None:
        self._sessions = sessions
        self._accounts = accounts
        self._gateways = gateways
        self.default_zone = default_zone
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.promoted = 0  # for tests: messages turned queued so far
        self.expired = 0

    def want(self) -> None:
        """A scheduled message was committed: look again at when to wake."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        self._stopping = True
        await stop_loop(self._task, self._wake)
        self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                timeout = await self.round(dt.datetime.now(dt.UTC))
            except Exception:
                log.exception("the scheduler's round failed")
                timeout = SWEEP_SECONDS
            if timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)

    async def round(self, now: dt.datetime) -> float:
        """Expire, promote and hand off what is due; the seconds until the next check."""
        accounts = await self._accounts.all()
        jobs: dict[GatewayType, list[Job]] = defaultdict(list)
        wake: list[dt.datetime] = []
        async with self._sessions.begin() as session:
            late = (
                await session.execute(
                    select(Message.seq).where(
                        Message.state == SCHEDULED, Message.valid_until <= now
                    )
                )
            ).scalars()
            late_seqs = list(late)
            if late_seqs:
                await expire(session, late_seqs, now)
                self.expired += len(late_seqs)
            rows = await due_rows(session, now, BATCH)
            promote: list[int] = []
            for m in rows:
                account = accounts.get(m.account_id) if m.account_id is not None else None
                held = self._quiet_end(m, account, now)
                if held is not None and account is not None:
                    wake.append(held)
                    zone = quiet_of(account.config, self.default_zone).zone
                    why = f"waiting: quiet hours until {describe_until(held, now, zone)}"
                    if m.detail != why:
                        m.detail = why
                    continue
                promote.append(m.seq)
                if account is not None:
                    jobs[GatewayType(m.gateway)].append(job_of(m, account))
            if promote:
                await changes.promoted(session, promote, now)
            upcoming = await next_due(session, now)
        self.promoted += len(promote)
        for gateway, batch in jobs.items():
            try:
                await self._gateways.get(gateway).hand_off(batch)
            except Exception:
                log.exception("gateway %s refused %d scheduled messages", gateway, len(batch))
        if len(rows) >= BATCH:
            return 0.0
        if upcoming is not None:
            wake.append(upcoming)
        if not wake:
            return SWEEP_SECONDS
        return max(0.01, min(SWEEP_SECONDS, (min(wake) - now).total_seconds()))

    def _quiet_end(
        self, m: Message, account: AccountView | None, now: dt.datetime
    ) -> dt.datetime | None:
        """Until when a web gateway's message still waits for quiet time to end (agent
        lines wait in the planner, which says so per line)."""
        if account is None or account.gateway.runs_on_agent:
            return None
        quiet = quiet_of(account.config, self.default_zone)
        if m.priority == Priority.HIGH and quiet.high_send:
            return None
        return quiet_until(now, quiet)


def job_of(m: Message, account: AccountView) -> Job:
    return Job(
        id=m.id,
        account_id=account.id,
        to=m.peer,
        text=m.text,
        parts=m.parts,
        config=account.config,
        secrets=account.secrets,
        sender=m.sender,
        valid_until=utc(m.valid_until),
    )
