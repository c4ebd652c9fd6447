"""What the bridge needs of a line (a modem, a gammu device, an smstools3 spool, SMSLib
tables), and the worker that feeds a line its jobs from the outbox.

A line turns a job into an outcome and reports later happenings (incoming SMS,
status reports, smsd's sent/failed files) through `emit`, which stores the event in
the outbox before it returns. If `emit` raises OutboxFull the line must leave the
message where it is (on the SIM, in the spool) and try again later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from bridge import protocol as p

from .outbox import Outbox

log = logging.getLogger(__name__)

Emit = Callable[[p.Event], Awaitable[p.Event]]


class LineContext(Protocol):
    """What the agent offers a running line."""

    async def emit(self, event: p.Event) -> p.Event:
        """Store an event durably (raises OutboxFull), then send it when connected."""
        ...

    async def add_part(self, key: str, seq: int, total: int, body: bytes) -> list[bytes] | None:
        """Keep one part of a concatenated message; every part's body once complete."""
        ...

    async def complete_parts(self, key: str, event: p.Event) -> p.Event:
        """Replace a complete set of parts by the event of the whole message."""
        ...

    def status_changed(self, line: str) -> None:
        """The line's status() has news (opened, lost, new signal): tell the server now."""


# The gateways whose device recognises a job it already holds (a spool that knows its
# job ids): handing such a job over twice cannot send it twice, so after a crash their
# unfinished jobs are handed again (agent/bridge/crash_recovery.py). The one list of it.
IDEMPOTENT_GATEWAYS = frozenset({"smstools", "smslib"})


def utcnow() -> datetime:
    return datetime.now(UTC)


class Line(Protocol):
    name: str
    kind: str  # "modem", "gammu", "smstools", "smslib"; IDEMPOTENT_GATEWAYS says which

    async def ready(self) -> None:
        """Return when the device can take a job (a modem is connected and registered)."""

    async def start(self, ctx: LineContext) -> None:
        """Open the device or spool and begin reporting incoming events."""

    async def send(self, job: p.Job) -> list[p.Event]:
        """Hand one job to the device. Returns the events that settle the job here:
        Sent (a modem accepted it), Dispatched (smsd or SMSServer holds it; the outcome
        comes later through emit), or Failed. Must not raise for a bad job."""
        ...

    def status(self) -> p.LineStatus: ...

    async def close(self) -> None: ...


class LineWorker:
    """One per line: takes the line's jobs from the outbox one at a time (sends are
    serialised per device) and records their outcome, atomically with the job."""

    def __init__(
        self,
        line: Line,
        outbox: Outbox,
        forward: Callable[[p.Event], None],
    ) -> None:
        self.line = line
        self.outbox = outbox
        self.forward = forward
        self.wakeup = asyncio.Event()
        self.last_error: str | None = None
        self.push: p.ConfigPush | None = None  # the configuration it runs with

    def poke(self) -> None:
        self.wakeup.set()

    async def run(self) -> None:
        while True:
            try:
                await self._next()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let the line's worker die: jobs would stall
                log.exception("line %s: worker error; going on", self.line.name)
                self.last_error = f"worker error: {exc}"
                await asyncio.sleep(1.0)

    async def _next(self) -> None:
        # Claiming marks the job handed: only do it when the device can take it.
        await self.line.ready()
        job = await asyncio.to_thread(self.outbox.claim, self.line.name)
        if job is None:
            self.wakeup.clear()
            # Re-check after clearing, so a job stored in between is not missed.
            job = await asyncio.to_thread(self.outbox.claim, self.line.name)
            if job is None:
                await self.wakeup.wait()
                return
        await self._send(job)

    async def _send(self, job: p.Job) -> None:
        try:
            events = await self.line.send(job)
        except Exception as exc:  # a line bug must not lose the job's outcome
            log.exception("line %s failed on job %s", self.line.name, job.id)
            events = [
                p.Failed(
                    event_id=0,
                    job_id=job.id,
                    at=utcnow(),
                    reason="outcome-unknown",
                    detail=f"line {self.line.name} crashed while sending: {exc}",
                )
            ]
        for event in events:
            if isinstance(event, p.Failed):
                self.last_error = event.detail or event.reason
        stored = await asyncio.to_thread(self.outbox.finish, job.id, *events)
        for event in stored:
            self.forward(event)
