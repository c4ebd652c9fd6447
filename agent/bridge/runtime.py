"""`sms-agent run`: the agent process. It owns the outbox and composes the three parts
around it, and carries out what the protocol session asks for.

    Agent(config, factories).run()  # until cancelled

- crash_recovery.py  settles what a crash left in the outbox, before any line starts
- supervisor.py      the lines: allow-list, factories, (re)starts
- connection.py      the WebSocket client with backoff, driving an AgentSession

Lines keep running while the server is away: incoming SMS and reports wait in the
outbox and go out on reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from bridge import protocol as p
from bridge.agent_session import (
    AckEvents,
    AgentSession,
    ApplyConfig,
    KeepLines,
    ResendEvents,
    StoreJob,
)

from .connection import ServerConnection
from .crash_recovery import recover
from .lines import Line, LineWorker
from .outbox import Outbox, OutboxFull
from .supervisor import LineFactory, LineSupervisor

__all__ = ["Agent", "Line", "LineFactory"]  # Line, LineFactory: their old import path

log = logging.getLogger(__name__)

SOFTWARE = "smsbridge-agent 0.1"
RESEND_BATCH = 500


class Agent:
    def __init__(
        self,
        config: Any,  # agent.config.AgentConfig
        factories: Mapping[str, LineFactory],
        *,
        outbox: Outbox | None = None,
    ) -> None:
        self.config = config
        self.outbox = outbox or Outbox(config.state_path / "outbox.sqlite")
        self.lines = LineSupervisor(config.allow, factories, self.outbox, self, self.forward)
        self.connection = ServerConnection(config, self._hello, self._act, self._statuses)

    # What tests and `sms-agent status` read, from the part that owns it.
    @property
    def workers(self) -> dict[str, LineWorker]:
        return self.lines.workers

    @property
    def session(self) -> AgentSession | None:
        return self.connection.session

    @property
    def connected_since(self) -> float | None:
        return self.connection.connected_since

    @property
    def last_error(self) -> str | None:
        return self.connection.last_error

    # --- lifecycle -----------------------------------------------------------------

    async def run(self) -> None:
        recover(self.outbox)
        for push in self.outbox.saved_lines():
            await self.lines.start(push)
        try:
            await self.connection.run()
        finally:
            await self.close()

    async def close(self) -> None:
        await self.lines.close()

    # --- for lines (LineContext) ---------------------------------------------------

    async def emit(self, event: p.Event) -> p.Event:
        """For lines: store an event durably, then send it if connected."""
        stored = await asyncio.to_thread(self.outbox.add_event, event)
        self.forward(stored)
        return stored

    async def add_part(self, key: str, seq: int, total: int, body: bytes) -> list[bytes] | None:
        return await asyncio.to_thread(self.outbox.add_part, key, seq, total, body)

    async def complete_parts(self, key: str, event: p.Event) -> p.Event:
        stored = await asyncio.to_thread(self.outbox.complete_parts, key, event)
        self.forward(stored)
        return stored

    def status_changed(self, line: str) -> None:
        worker = self.workers.get(line)
        if worker is not None and self.session is not None:
            self.session.line_status(self.line_status(worker))
            self.connection.wake()

    def forward(self, event: p.Event) -> None:
        if self.session is not None and self.session.event(event):
            self.connection.wake()

    # --- for the connection --------------------------------------------------------

    def _hello(self) -> p.Hello:
        return p.Hello(
            agent=self.config.name,
            software=SOFTWARE,
            lines=[p.LineInfo(w.line.name, w.line.kind) for w in self.workers.values()],
            capabilities=["report", "config-push"],
        )

    def _statuses(self) -> Iterator[p.LineStatus]:
        for worker in list(self.workers.values()):
            yield self.line_status(worker)

    def line_status(self, worker: LineWorker) -> p.LineStatus:
        st = worker.line.status()
        # replace(), not a new LineStatus: a line's own fields (a modem's rung) go along.
        return msgspec.structs.replace(
            st,
            queue=self.outbox.queued_for(worker.line.name),
            last_error=st.last_error or worker.last_error,
        )

    async def _act(self, session: AgentSession, action: object) -> None:
        match action:
            case StoreJob(job=job):
                try:
                    await asyncio.to_thread(self.outbox.store_job, job)
                except OutboxFull as exc:
                    session.job_stored(job.id, refused=exc.reason, detail=str(exc))
                    return
                if job.line not in self.workers:
                    # Stored all the same: it goes out when the line is configured.
                    log.warning("job %s for unknown line %s kept waiting", job.id, job.line)
                session.job_stored(job.id)
                worker = self.workers.get(job.line)
                if worker:
                    worker.poke()
            case AckEvents(event_ids=ids):
                await asyncio.to_thread(self.outbox.ack_events, ids)
            case ResendEvents():
                after = 0
                while batch := await asyncio.to_thread(
                    self.outbox.pending_events, RESEND_BATCH, after
                ):
                    for event in batch:
                        session.event(event)
                    after = batch[-1].event_id
                    self.connection.wake()
                for worker in self.workers.values():
                    session.line_status(self.line_status(worker))
                    worker.poke()
                self.connection.wake()
            case KeepLines(lines=keep):
                for name in [n for n in self.workers if n not in keep]:
                    log.info("line %s is no longer configured on the server: stopped", name)
                    await self.lines.stop(name)
                await asyncio.to_thread(self.outbox.forget_lines_except, keep)
            case ApplyConfig(push=push):
                why = await self.lines.start(push)
                if why is None:
                    await asyncio.to_thread(self.outbox.save_line, push)
                session.config_result(push.line, why is None, why or "")
                if why is None:
                    session.line_status(self.line_status(self.workers[push.line]))
                if why is not None:
                    log.warning("configuration for line %s refused: %s", push.line, why)

    # --- status for `sms-agent status` ---------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "agent": self.config.name,
            "server": self.config.server,
            "connected": self.session is not None and self.connected_since is not None,
            "connected_since": self.connected_since,
            "last_error": self.last_error,
            "outbox": {
                "jobs": self.outbox.job_counts(),
                "events": self.outbox.event_count(),
            },
            "lines": [self.line_status(w) for w in self.workers.values()],
        }
