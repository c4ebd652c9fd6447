"""The /agent WebSocket: one AgentConnection per connected agent.

It authenticates the agent's token before accepting, runs the protocol session, pushes
the agent's line configurations, pumps its queued jobs (claimed from the database with
a lease) and applies its events, acknowledging each only after it is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from sqlalchemy import select

from agent.bridge import protocol as p

from ..db.tables import Agent
from ..tokens import hash_token
from . import store
from .session import (
    Close,
    ConfigApplied,
    Greeted,
    JobAcked,
    LineReport,
    ServerSession,
    StoreEvents,
)

if TYPE_CHECKING:
    from ..runtime import Server

log = logging.getLogger("smsbridge.server.agents")

SWEEP_SECONDS = 5.0  # safety net: leases run out, notifications can be lost
PING_SECONDS = 20.0


class AgentConnection:
    def __init__(self, server: Server, agent: Agent, socket: WebSocket) -> None:
        self.server = server
        self.agent = agent
        self.socket = socket
        self.id = f"{server.hub.process_id}-{uuid.uuid4().hex[:12]}"
        self.session = ServerSession(agent.name)
        self._jobs_wanted = asyncio.Event()
        self._config_wanted = asyncio.Event()
        self._send_lock = asyncio.Lock()
        self.kinds: dict[str, str] = {}  # line → gateway, from the agent's Hello

    def wake(self, what: str) -> None:
        (self._config_wanted if what == "config" else self._jobs_wanted).set()

    async def flush(self) -> None:
        async with self._send_lock:
            for frame in self.session.data_to_send():
                await self.socket.send_text(frame.decode())

    async def run(self) -> None:
        tasks: list[asyncio.Task[None]] = []
        try:
            async for message in self.socket.iter_data(mode="text"):
                for action in self.session.receive_data(message):
                    if isinstance(action, Close):
                        await self.flush()
                        log.info("agent %s: closing: %s", self.agent.name, action.detail)
                        return
                    if isinstance(action, Greeted):
                        await self._greeted(action.hello)
                        tasks = [
                            asyncio.create_task(self._pump()),
                            asyncio.create_task(self._config_loop()),
                            asyncio.create_task(self._pinger()),
                        ]
                    else:
                        await self._act(action)
                await self.flush()
        except WebSocketDisconnect:
            pass
        finally:
            for task in tasks:
                task.cancel()
            await self._gone()

    async def _greeted(self, hello: p.Hello) -> None:
        self.kinds = {line.name: line.kind for line in hello.lines}
        self.server.hub.attach(self.agent.name, self.wake)
        async with self.server.sessions.begin() as session:
            await store.set_connection(session, self.agent.id, self.id)
            accounts = await store.agent_accounts(session, self.agent.name)
            pushes = [store.config_push(a, self.server.box) for a in accounts]
        self.session.welcome()
        self.session.lines(pushes)
        self._jobs_wanted.set()
        log.info("agent %s connected with %d lines", self.agent.name, len(hello.lines))

    async def _gone(self) -> None:
        self.server.hub.detach(self.agent.name, self.wake)
        with contextlib.suppress(Exception):
            async with self.server.sessions.begin() as session:
                await store.release_leases(session, self.id)
                await store.drop_connection(session, self.agent.id, self.id)
        log.info("agent %s disconnected", self.agent.name)

    async def _act(self, action: object) -> None:
        match action:
            case StoreEvents(events=events):
                async with self.server.sessions.begin() as session:
                    for event in events:
                        await store.apply_event(session, self.agent, event, self.kinds)
                self.session.events_stored([e.event_id for e in events])
            case JobAcked(ack=ack):
                async with self.server.sessions.begin() as session:
                    await store.job_acked(session, ack, self.id)
            case LineReport(status=status):
                async with self.server.sessions.begin() as session:
                    await store.save_line_status(session, self.agent, status)
            case ConfigApplied(result=result) if not result.applied:
                log.warning(
                    "agent %s refused the configuration of line %s: %s",
                    self.agent.name,
                    result.line,
                    result.detail,
                )
                async with self.server.sessions.begin() as session:
                    await store.save_line_status(
                        session,
                        self.agent,
                        p.LineStatus(
                            line=result.line,
                            up=False,
                            at=store.now(),
                            detail="configuration refused by the agent",
                            last_error=result.detail,
                        ),
                    )

    async def _pump(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._jobs_wanted.wait(), SWEEP_SECONDS)
            self._jobs_wanted.clear()
            while True:
                async with self.server.sessions.begin() as session:
                    jobs = await store.claim_jobs(session, self.agent.name, self.id)
                for job in jobs:
                    self.session.job(job)
                await self.flush()
                if len(jobs) < 200:
                    break

    async def _config_loop(self) -> None:
        while True:
            await self._config_wanted.wait()
            self._config_wanted.clear()
            async with self.server.sessions() as session:
                accounts = await store.agent_accounts(session, self.agent.name)
                pushes = [store.config_push(a, self.server.box) for a in accounts]
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
    connection = AgentConnection(server, agent, socket)
    server.metrics.agents_connected.inc()
    try:
        await connection.run()
    finally:
        server.metrics.agents_connected.dec()
