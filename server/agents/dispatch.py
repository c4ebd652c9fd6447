"""Sends queued jobs to the agents connected to this process: one claiming transaction
per round for every agent that has news, instead of one per agent and message.

A round starts when a message for a connected agent is committed (Hub.notify), when an
agent connects, and every few seconds regardless (leases run out, notifications can be
lost), and claims what the agents have waiting, oldest first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import async_sessionmaker

from agent.bridge import protocol as p

from . import store

log = logging.getLogger("smsbridge.server.agents")

SWEEP_SECONDS = 5.0
ROUND_MAX = 2000  # jobs claimed per round; more waiting starts another round at once

Deliver = Callable[[list[p.Job]], None]


class Dispatcher:
    def __init__(self, sessions: async_sessionmaker, owner: str) -> None:
        self._sessions = sessions
        self.owner = owner  # leases taken by this process
        self._agents: dict[str, Deliver] = {}
        self._wanted: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0

    def attach(self, agent: str, deliver: Deliver) -> None:
        self._agents[agent] = deliver
        self.want(agent)

    def detach(self, agent: str, deliver: Deliver) -> None:
        if self._agents.get(agent) is deliver:
            del self._agents[agent]

    def want(self, agent: str) -> None:
        self._wanted.add(agent)
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="agent-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), SWEEP_SECONDS)
            except TimeoutError:
                self._wanted |= set(self._agents)
            self._wake.clear()
            agents = [a for a in self._wanted if a in self._agents]
            self._wanted.clear()
            if not agents:
                continue
            try:
                await self._round(agents)
            except Exception:
                log.exception("dispatching jobs to %d agents failed", len(agents))

    async def _round(self, agents: list[str]) -> None:
        async with self._sessions.begin() as session:
            jobs = await store.claim_jobs(session, agents, self.owner, ROUND_MAX)
        self.rounds += 1
        by_agent: dict[str, list[p.Job]] = {}
        for agent, job in jobs:
            by_agent.setdefault(agent, []).append(job)
        for agent, batch in by_agent.items():
            deliver = self._agents.get(agent)
            if deliver is not None:
                deliver(batch)
        if len(jobs) >= ROUND_MAX:
            self._wanted |= set(by_agent)
            self._wake.set()
