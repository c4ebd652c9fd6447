"""Which agents this server process holds, and how a new job wakes the right one.

In one process a wake-up is a direct call. With several replicas on one PostgreSQL,
the replica that stored a message may not hold the agent's WebSocket: it sends
NOTIFY on a channel every replica LISTENs to, and the holder wakes its job pump. Jobs
themselves are claimed from the messages table (FOR UPDATE SKIP LOCKED), so a lost
notification only delays a job until the next sweep, never loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("smsbridge.server.agents")

CHANNEL = "smsbridge_agents"


class Hub:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.process_id = uuid.uuid4().hex[:12]
        self._wakers: dict[str, Callable[[str], None]] = {}  # agent → its connection's wake
        self._listener: asyncpg.Connection | None = None

    @property
    def shared(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def start(self) -> None:
        if not self.shared:
            return
        url = make_url(self.engine.url).set(drivername="postgresql")
        self._listener = await asyncpg.connect(url.render_as_string(hide_password=False))
        await self._listener.add_listener(CHANNEL, self._on_notify)

    async def stop(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close()
            self._listener = None

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        agent, _, what = payload.partition(":")
        self._wake_local(agent, what or "jobs")

    def attach(self, agent: str, wake: Callable[[str], None]) -> None:
        self._wakers[agent] = wake

    def detach(self, agent: str, wake: Callable[[str], None]) -> None:
        if self._wakers.get(agent) is wake:
            del self._wakers[agent]

    def holds(self, agent: str) -> bool:
        return agent in self._wakers

    def _wake_local(self, agent: str, what: str) -> bool:
        wake = self._wakers.get(agent)
        if wake is None:
            return False
        wake(what)
        return True

    async def notify(self, agent: str, what: str = "jobs") -> None:
        """Wake the connection of `agent` wherever it is: `jobs` (new work) or
        `config` (its accounts changed)."""
        if self._wake_local(agent, what) or not self.shared:
            return
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    text("SELECT pg_notify(:channel, :payload)"),
                    {"channel": CHANNEL, "payload": f"{agent}:{what}"},
                )
        except Exception:  # the sweep picks the job up anyway
            log.warning("NOTIFY for agent %s failed", agent, exc_info=True)


def wake_soon(event: asyncio.Event) -> Callable[[str], None]:
    def wake(_what: str) -> None:
        event.set()

    return wake
