"""`sms-agent run`: the agent process. It owns the outbox, the lines and the WebSocket
connection, and carries out what the protocol session asks for.

    Agent(config, factories).run()  # until cancelled

Reconnects with jittered exponential backoff. Lines keep running while the server is
away: incoming SMS and reports wait in the outbox and go out on reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection, connect

from bridge import protocol as p
from bridge.agent_session import (
    AckEvents,
    AgentSession,
    ApplyConfig,
    Close,
    KeepLines,
    ResendEvents,
    StoreJob,
)

from .allow import refusals
from .lines import Line, LineWorker, utcnow
from .outbox import Outbox, OutboxFull

log = logging.getLogger(__name__)

SOFTWARE = "smsbridge-agent 0.1"
STATUS_INTERVAL = 30.0
IDEMPOTENT_GATEWAYS = ("smstools", "smslib")
RESEND_BATCH = 500

# gateway id → builds a line from its pushed configuration (raises ValueError with a
# message for people when the configuration cannot work).
LineFactory = Callable[[p.ConfigPush], Line]


class Agent:
    def __init__(
        self,
        config: Any,  # agent.config.AgentConfig
        factories: Mapping[str, LineFactory],
        *,
        outbox: Outbox | None = None,
    ) -> None:
        self.config = config
        self.factories = dict(factories)
        self.outbox = outbox or Outbox(config.state_path / "outbox.sqlite")
        self.workers: dict[str, LineWorker] = {}
        self._worker_tasks: dict[str, asyncio.Task[None]] = {}
        self.session: AgentSession | None = None
        self.connected_since: float | None = None
        self.last_error: str | None = None
        self._wake_writer = asyncio.Event()

    # --- lifecycle -----------------------------------------------------------------

    async def run(self) -> None:
        await self._recover()
        for push in self.outbox.saved_lines():
            await self._start_line(push)
        try:
            await self._connect_forever()
        finally:
            await self.close()

    async def close(self) -> None:
        for task in self._worker_tasks.values():
            task.cancel()
        for worker in self.workers.values():
            with contextlib.suppress(Exception):
                await worker.line.close()
        self.workers.clear()
        self._worker_tasks.clear()

    async def _recover(self) -> None:
        # A job handed to a device whose outcome was never recorded: the agent died in
        # between. A spool recognises a job it already has, so it gets it again; a modem
        # may have sent it, so it is never handed again: report it.
        for push in self.outbox.saved_lines():
            if push.gateway in IDEMPOTENT_GATEWAYS:
                self.outbox.requeue_handed(push.line)
        for job in self.outbox.handed_unfinished():
            self.outbox.finish(
                job.id,
                p.Failed(
                    event_id=0,
                    job_id=job.id,
                    at=utcnow(),
                    reason="outcome-unknown",
                    detail="the agent stopped while the device had this message; "
                    "it may or may not have been sent, so it is not sent again",
                ),
            )

    # --- lines ---------------------------------------------------------------------

    async def _start_line(self, push: p.ConfigPush) -> str | None:
        """Start (or restart) a line; returns why it could not start, or None. The same
        configuration again leaves a running line alone (no modem is reset for nothing)."""
        running = self.workers.get(push.line)
        if running is not None and running.push == push:
            return None
        refused = refusals(push.gateway, push.config, self.config.allow)
        if refused:
            return "; ".join(refused)
        factory = self.factories.get(push.gateway)
        if factory is None:
            return f"this agent has no {push.gateway!r} support"
        try:
            line = factory(push)
        except ValueError as exc:
            return str(exc)
        await self._stop_line(push.line)
        worker = LineWorker(line, self.outbox, self.forward)
        worker.push = push
        try:
            await line.start(self)
        except Exception as exc:  # the device may be absent now; the line retries itself
            log.warning("line %s: %s", push.line, exc)
            worker.last_error = str(exc)
        self.workers[push.line] = worker
        self._worker_tasks[push.line] = asyncio.create_task(worker.run(), name=f"line {push.line}")
        return None

    async def _stop_line(self, name: str) -> None:
        task = self._worker_tasks.pop(name, None)
        if task:
            task.cancel()
        worker = self.workers.pop(name, None)
        if worker:
            await worker.line.close()

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
            self._wake_writer.set()

    def forward(self, event: p.Event) -> None:
        if self.session is not None and self.session.event(event):
            self._wake_writer.set()

    # --- connection ----------------------------------------------------------------

    def _hello(self) -> p.Hello:
        return p.Hello(
            agent=self.config.name,
            software=SOFTWARE,
            lines=[p.LineInfo(w.line.name, w.line.kind) for w in self.workers.values()],
            capabilities=["report", "config-push"],
        )

    def _ssl(self) -> ssl.SSLContext | None:
        if not self.config.server.startswith("wss://"):
            return None
        ctx = ssl.create_default_context(cafile=self.config.ca)
        return ctx

    async def _connect_forever(self) -> None:
        attempt = 0
        while True:
            started = time.monotonic()
            fatal = await self._connect_once()
            if fatal:
                log.error("not reconnecting: %s", self.last_error)
                return
            # A connection that lived a while resets the backoff.
            attempt = 0 if time.monotonic() - started > 30 else attempt + 1
            delay = min(self.config.reconnect_max_seconds, 0.5 * 2**attempt)
            await asyncio.sleep(random.uniform(0.5 * delay, delay))  # jitter

    async def _connect_once(self) -> bool:
        """One connection; returns True when reconnecting would not help."""
        headers = {"Authorization": f"Bearer {self.config.token}"}
        try:
            async with connect(
                self.config.server,
                additional_headers=headers,
                max_size=p.MAX_FRAME_BYTES,
                ssl=self._ssl(),
                open_timeout=10,
                proxy=None,
            ) as ws:
                return await self._serve(ws)
        except websockets.InvalidStatus as exc:
            status = exc.response.status_code
            self.last_error = f"server answered HTTP {status} to the WebSocket upgrade"
            return status in (401, 403)
        except (OSError, websockets.WebSocketException, TimeoutError) as exc:
            self.last_error = f"connection to {self.config.server} failed: {exc}"
            log.warning("%s", self.last_error)
            return False
        finally:
            self.session = None
            self.connected_since = None

    async def _serve(self, ws: ClientConnection) -> bool:
        session = AgentSession(self._hello())
        self.session = session
        self.connected_since = time.time()
        self._wake_writer.set()  # the Hello
        writer = asyncio.create_task(self._writer(ws, session))
        status = asyncio.create_task(self._status_loop(session))
        try:
            async for message in ws:
                for action in session.receive_data(message):
                    if isinstance(action, Close):
                        self.last_error = action.reason
                        await ws.close()
                        return action.fatal
                    await self._act(session, action)
                self._wake_writer.set()
        except websockets.ConnectionClosed as exc:
            self.last_error = f"connection closed: {exc}"
        finally:
            writer.cancel()
            status.cancel()
        return False

    async def _writer(self, ws: ClientConnection, session: AgentSession) -> None:
        while True:
            await self._wake_writer.wait()
            self._wake_writer.clear()
            for frame in session.data_to_send():
                await ws.send(frame.decode())

    async def _status_loop(self, session: AgentSession) -> None:
        while True:
            await asyncio.sleep(STATUS_INTERVAL)
            for worker in list(self.workers.values()):
                session.line_status(self.line_status(worker))
            self._wake_writer.set()

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
                    self._wake_writer.set()
                for worker in self.workers.values():
                    session.line_status(self.line_status(worker))
                    worker.poke()
                self._wake_writer.set()
            case KeepLines(lines=keep):
                for name in [n for n in self.workers if n not in keep]:
                    log.info("line %s is no longer configured on the server: stopped", name)
                    await self._stop_line(name)
                await asyncio.to_thread(self.outbox.forget_lines_except, keep)
            case ApplyConfig(push=push):
                why = await self._start_line(push)
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
