"""The WebSocket client: one connection at a time to the server, reconnected with
jittered exponential backoff, each one driven by a fresh sans-I/O AgentSession.

The connection reads frames into the session and hands the session's actions to the
agent (`act`); it writes whatever the session has to send whenever `wake()` is called.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

from bridge import protocol as p
from bridge.agent_session import AgentSession, Close

log = logging.getLogger(__name__)

STATUS_INTERVAL = 30.0

Act = Callable[[AgentSession, object], Awaitable[None]]


class ServerConnection:
    def __init__(
        self,
        config: Any,  # agent.config.AgentConfig
        hello: Callable[[], p.Hello],
        act: Act,
        statuses: Callable[[], Iterable[p.LineStatus]],
    ) -> None:
        self.config = config
        self._hello = hello
        self._act = act
        self._statuses = statuses
        self.session: AgentSession | None = None
        self.connected_since: float | None = None
        self.last_error: str | None = None
        self._wake_writer = asyncio.Event()

    def wake(self) -> None:
        """The session has frames to send."""
        self._wake_writer.set()

    def _ssl(self) -> ssl.SSLContext | None:
        if not self.config.server.startswith("wss://"):
            return None
        return ssl.create_default_context(cafile=self.config.ca)

    async def run(self) -> None:
        """Connect, serve, reconnect; returns only when reconnecting would not help."""
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
            for status in self._statuses():
                session.line_status(status)
            self._wake_writer.set()
