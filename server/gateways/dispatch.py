"""What every web gateway does around one send: a bounded backlog, a per-account limit on
concurrency and rate, retries with backoff, and the report of the outcome.

A gateway supplies only `send_one(job) -> Outcome`. Messages stay `queued` in the database
while they wait here (nothing here is durable: after a restart `resume_queued` hands them
over again, and the services' own de-duplication keeps a resend from sending twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec

from sms.model import MessageState

from .base import Job, StateSink

log = logging.getLogger("smsbridge.server.gateways")


class Sent(msgspec.Struct, frozen=True):
    ref: str | None = None  # the service's id for the message, quoted by delivery reports


class Failed(msgspec.Struct, frozen=True):
    reason: str
    detail: str


class Retry(msgspec.Struct, frozen=True):
    """Not this time. `outage`: the service did not answer at all; the message waits (as
    long as the backlog has room) instead of using up its attempts."""

    reason: str
    detail: str
    outage: bool = False


Outcome = Sent | Failed | Retry
SendOne = Callable[[Job], Awaitable[Outcome]]
Sleep = Callable[[float], Awaitable[None]]


class Policy(msgspec.Struct, frozen=True):
    max_attempts: int = 5  # for Retry without outage (smsbrana err 1 and 8, HTTP 5xx...)
    base_delay: float = 2.0  # seconds before the first retry; doubles each time
    max_delay: float = 300.0
    backlog: int = 10_000  # messages waiting in this gateway before new ones are failed
    concurrency: int = 8  # requests in flight per account
    rate: float = 20.0  # requests started per second per account


class RefSink(StateSink, Protocol):
    """A StateSink that can also remember the service's id of a sent message."""

    async def sent(self, message_id: str, ref: str | None) -> None: ...


class _Account:
    """Per-account limits: a semaphore for concurrency, a start time slot for the rate."""

    def __init__(self, policy: Policy) -> None:
        self.slots = asyncio.Semaphore(policy.concurrency)
        self.interval = 1.0 / policy.rate if policy.rate > 0 else 0.0
        self.next_start = 0.0


class Dispatcher:
    def __init__(
        self,
        name: str,
        send_one: SendOne,
        sink: RefSink,
        *,
        policy: Policy | None = None,
        sleep: Sleep | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._wall = wall  # for a job's valid_until
        self.name = name
        self._send_one = send_one
        self._sink = sink
        self.policy = policy or Policy()
        self._sleep = sleep or asyncio.sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._accounts: dict[int, _Account] = {}
        self._tasks: dict[asyncio.Task[None], str] = {}  # → message id
        self.waiting_ids: set[str] = set()

    @property
    def backlog(self) -> int:
        return len(self._tasks)

    async def hand_off(self, jobs: list[Job]) -> None:
        for job in jobs:
            if job.id in self.waiting_ids:
                continue  # already here (a resume racing a send): never twice in flight
            if len(self._tasks) >= self.policy.backlog:
                await self._sink.report(
                    job.id,
                    MessageState.FAILED.value,
                    "gateway_backlog_full",
                    f"{self.name}: {self.policy.backlog} messages are already waiting for "
                    "the service; try again when it answers again",
                )
                continue
            self.waiting_ids.add(job.id)
            task = asyncio.create_task(self._run(job), name=f"{self.name}-{job.id}")
            self._tasks[task] = job.id
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        # Here, not in _run: a task cancelled before it started never runs its body.
        self.waiting_ids.discard(self._tasks.pop(task, ""))

    async def drain(self) -> None:
        """Wait until every message handed off so far has its outcome (tests, bench)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter, so that accounts do not retry in step."""
        base = min(self.policy.max_delay, self.policy.base_delay * 2 ** (attempt - 1))
        return base * (0.5 + self._rng.random() / 2)

    async def _limited(self, job: Job) -> Outcome:
        account = self._accounts.get(job.account_id)
        if account is None:
            account = self._accounts[job.account_id] = _Account(self.policy)
        async with account.slots:
            now = self._clock()
            start = max(now, account.next_start)
            account.next_start = start + account.interval
            if start > now:
                await self._sleep(start - now)
            return await self._send_one(job)

    async def _run(self, job: Job) -> None:
        attempt = 0
        while True:
            attempt += 1
            if job.valid_until is not None and self._wall() >= job.valid_until:
                # Waiting for the service (retries, an outage) outlasted the message.
                await self._sink.report(
                    job.id,
                    MessageState.FAILED.value,
                    "expired",
                    f"{self.name}: not sent before its valid_until ({attempt - 1} attempts so far)",
                )
                return
            try:
                outcome = await self._limited(job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A bug, not the service: fail this one message, keep the gateway going.
                log.exception("%s: sending message %s failed unexpectedly", self.name, job.id)
                outcome = Failed(
                    "gateway_error", f"{self.name}: internal error ({type(exc).__name__})"
                )
            if isinstance(outcome, Sent):
                await self._sink.sent(job.id, outcome.ref)
                return
            if isinstance(outcome, Failed):
                await self._sink.report(
                    job.id, MessageState.FAILED.value, outcome.reason, outcome.detail
                )
                return
            if not outcome.outage and attempt >= self.policy.max_attempts:
                await self._sink.report(
                    job.id,
                    MessageState.FAILED.value,
                    outcome.reason,
                    f"{outcome.detail} (gave up after {attempt} attempts)",
                )
                return
            log.info(
                "%s: message %s not sent yet (%s), retrying", self.name, job.id, outcome.reason
            )
            await self._sleep(self.delay(attempt))
