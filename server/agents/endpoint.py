"""The /agent WebSocket: one AgentConnection per connected agent.

It authenticates the agent's token before accepting, runs the protocol session, pushes
the agent's line configurations, pumps its queued jobs (claimed from the database with
a lease) and applies its events, acknowledging each only after it is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import TYPE_CHECKING

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from sqlalchemy import select

from bridge import protocol as p
from bridge.server_session import (
    Close,
    ConfigApplied,
    Greeted,
    JobAcked,
    LineReport,
    ServerSession,
    StoreEvents,
)

from ..db.tables import Agent
from ..events import agents as agent_events
from ..ratelimit import Bucket
from ..tokens import hash_token
from . import store
from .applier import Batch, Item

if TYPE_CHECKING:
    from ..runtime import Server

log = logging.getLogger("smsbridge.server.agents")

PING_SECONDS = 20.0
# Bounds on one connection's work, so that a flood of frames (pings, garbage) from one
# agent cannot starve the API: frames read ahead of their handling (then the socket
# waits, and TCP pushes back on the agent), frames handled per round before the loop
# lets other tasks run, and a sustained frame rate (a busy modem line sends a few
# frames per SMS; thousands a second is a flood).
INBOX_FRAMES = 256
ROUND_FRAMES = 256
FRAMES_PER_SECOND = 5000.0
FRAMES_BURST = 10000.0


class AgentConnection:
    def __init__(self, server: Server, agent: Agent, socket: WebSocket) -> None:
        self.server = server
        self.agent = agent
        self.socket = socket
        self.id = f"{server.hub.process_id}-{uuid.uuid4().hex[:12]}"
        self.session = ServerSession(agent.name)
        self._flushes: set[asyncio.Task[None]] = set()
        self._config_wanted = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self.kinds: dict[str, str] = {}  # line → gateway, from the agent's Hello

    def wake(self, what: str) -> None:
        if what == "config":
            self._config_wanted.set()
        elif what == "close":  # its token was changed or it was removed (api/agents.py)
            task = asyncio.create_task(self._revoked())
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)
        else:
            self.server.dispatcher.want(self.agent.name)

    async def _revoked(self) -> None:
        log.info("agent %s: token revoked, closing its connection", self.agent.name)
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self.socket.close(code=4401, reason="agent token revoked")

    def deliver(self, jobs: list[p.Job]) -> None:
        for job in jobs:
            self.session.job(job)
        self._flush_soon()

    def _flush_soon(self) -> None:
        task = asyncio.create_task(self.flush())
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def flush(self) -> None:
        async with self._send_lock:
            frames = self.session.data_to_send()
            # A socket that is gone takes nothing; its leased jobs go back when it ends.
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                for frame in frames:
                    await self.socket.send_text(frame.decode())

    async def run(self) -> None:
        # Frames that arrive while a batch commits are handled together in the next one:
        # one transaction (shared with other agents, see applier.py) for many acks/events.
        inbox: asyncio.Queue[str | None] = asyncio.Queue(INBOX_FRAMES)
        reader = asyncio.create_task(self._read(inbox))
        tasks: list[asyncio.Task[None]] = []
        try:
            while True:
                messages = [await inbox.get()]
                while not inbox.empty() and len(messages) < ROUND_FRAMES:
                    messages.append(inbox.get_nowait())
                closed = None in messages
                items: list[Item] = []
                acked: list[int] = []
                for message in messages:
                    if message is None:
                        break
                    for action in self.session.receive_data(message):
                        match action:
                            case Close(detail=detail):
                                await self.flush()
                                log.info("agent %s: closing: %s", self.agent.name, detail)
                                return
                            case Greeted(hello=hello):
                                await self._greeted(hello)
                                tasks = [
                                    asyncio.create_task(self._config_loop()),
                                    asyncio.create_task(self._pinger()),
                                ]
                            case StoreEvents(events=events):
                                items.extend(events)
                                acked.extend(e.event_id for e in events)
                            case JobAcked(ack=ack):
                                items.append(ack)
                            case LineReport(status=status):
                                items.append(status)
                            case ConfigApplied(result=result) if not result.applied:
                                items.append(self._refused(result))
                if items:
                    await self.server.applier.apply(
                        Batch(self.agent, self.server.dispatcher.owner, items, self.kinds)
                    )
                    self.session.events_stored(acked)
                    if any(isinstance(i, p.Sent | p.Failed | p.LineStatus) for i in items):
                        # A modem is free for its next job, or a line came or went.
                        self.server.dispatcher.want(self.agent.name)
                await self.flush()
                if closed:
                    return
                await asyncio.sleep(0)  # a full inbox must not keep other tasks waiting
        finally:
            reader.cancel()
            for task in tasks:
                task.cancel()
            await self._gone()

    async def _read(self, inbox: asyncio.Queue[str | None]) -> None:
        budget = Bucket(FRAMES_PER_SECOND, FRAMES_BURST)
        try:
            async for message in self.socket.iter_data(mode="text"):
                wait = budget.take(time.monotonic())
                if wait > 0:
                    await asyncio.sleep(wait)  # pacing a flood, not waiting for an event
                await inbox.put(message)  # type: ignore[arg-type]
        except WebSocketDisconnect:
            pass
        finally:
            await inbox.put(None)

    def _refused(self, result: p.ConfigResult) -> p.LineStatus:
        log.warning(
            "agent %s refused the configuration of line %s: %s",
            self.agent.name,
            result.line,
            result.detail,
        )
        return p.LineStatus(
            line=result.line,
            up=False,
            at=store.now(),
            detail="configuration refused by the agent",
            last_error=result.detail,
        )

    async def _greeted(self, hello: p.Hello) -> None:
        self.kinds = {line.name: line.kind for line in hello.lines}
        self.server.hub.attach(self.agent.name, self.wake)
        async with self.server.sessions.begin() as session:
            await agent_events.connecting(session, self.agent, self.id)
            await store.set_connection(session, self.agent.id, self.id)
            # Leases its earlier connection held (here or on another replica) are stale:
            # those jobs go to it again now (its outbox drops what it already has).
            await store.release_leases(session, None, self.agent.name)
            pushes = await store.agent_pushes(session, self.agent.name, self.server.box)
        self.session.welcome()
        self.session.lines(pushes)
        self.server.dispatcher.attach(self.agent.name, self.deliver)
        log.info("agent %s connected with %d lines", self.agent.name, len(hello.lines))

    async def _gone(self) -> None:
        self.server.hub.detach(self.agent.name, self.wake)
        self.server.dispatcher.detach(self.agent.name, self.deliver)
        with contextlib.suppress(Exception):
            async with self.server.sessions.begin() as session:
                await store.release_leases(session, self.server.dispatcher.owner, self.agent.name)
                await agent_events.disconnecting(session, self.agent, self.id)
                await store.drop_connection(session, self.agent.id, self.id)
        log.info("agent %s disconnected", self.agent.name)

    async def _config_loop(self) -> None:
        while True:
            await self._config_wanted.wait()
            self._config_wanted.clear()
            async with self.server.sessions() as session:
                pushes = await store.agent_pushes(session, self.agent.name, self.server.box)
            self.session.lines(pushes)
            await self.flush()

    async def _pinger(self) -> None:
        nonce = 0
        while True:
            await asyncio.sleep(PING_SECONDS)
            nonce += 1
            self.session.ping(nonce)
            await self.flush()
            async with self.server.sessions.begin() as session:
                await store.set_connection(session, self.agent.id, self.id)


async def authenticate(server: Server, socket: WebSocket) -> Agent | None:
    header = socket.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    async with server.sessions() as session:
        return (
            await session.execute(
                select(Agent).where(Agent.token_hash == hash_token(token.strip()))
            )
        ).scalar()


@websocket("/agent")
async def agent_socket(socket: WebSocket) -> None:
    server: Server = socket.app.state.server
    agent = await authenticate(server, socket)
    if agent is None:
        # Closing before accepting answers the upgrade with HTTP 403: the agent stops
        # retrying and says its token is wrong.
        await socket.close(code=4401, reason="unknown agent token")
        return
    await socket.accept()
    await AgentConnection(server, agent, socket).run()
