"""Sends queued jobs to the agents connected to this process: one planning transaction
per round for every line of those agents (server/routing/), instead of one per agent
and message.

A round starts when a message for a connected agent is committed (Hub.notify), when an
agent connects, when a line reports a job sent or failed (its modem is free for the
next one) or changes status, and every few seconds regardless (leases run out,
budgets refill, notifications can be lost). It also sends, through the fallback
account, the messages of accounts whose lines have all been unusable for too long.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import async_sessionmaker

from bridge import protocol as p

from ..background import stop_loop
from ..routing.store import Queued, route_round
from ..routing.timing import DEFAULT_ZONE

log = logging.getLogger("smsbridge.server.agents")

SWEEP_SECONDS = 5.0
ROUND_MAX = 2000  # queued messages planned per round; more waiting starts another round

Deliver = Callable[[list[p.Job]], None]
Fallback = Callable[[list[tuple[Queued, int]]], Awaitable[None]]


class Dispatcher:
    def __init__(self, sessions: async_sessionmaker, owner: str) -> None:
        self._sessions = sessions
        self.owner = owner  # leases taken by this process
        self._agents: dict[str, Deliver] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._blocked: dict[int, dt.datetime | None] = {}  # account → no usable line since
        self.fallback: Fallback | None = None  # set by the runtime: hands to web gateways
        self.time_zone = DEFAULT_ZONE  # of quiet hours without their own (server settings)
        self.rounds = 0
        # For the bench: time in rounds (wall clock: queries, planning, recording; other
        # tasks may run while a round awaits the database), in the pure planner alone,
        # and the messages handed to a line or a fallback.
        self.round_seconds = 0.0
        self.plan_seconds = 0.0
        self.planned = 0

    def attach(self, agent: str, deliver: Deliver) -> None:
        self._agents[agent] = deliver
        self.want(agent)

    def detach(self, agent: str, deliver: Deliver) -> None:
        if self._agents.get(agent) is deliver:
            del self._agents[agent]

    def want(self, agent: str | None = None) -> None:
        """Plan a round soon (every round covers every line of this process)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="agent-dispatcher")

    async def stop(self) -> None:
        self._stopping = True
        await stop_loop(self._task, self._wake)
        self._task = None

    async def _run(self) -> None:
        timeout = SWEEP_SECONDS
        last_sweep = time.monotonic()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            if self._stopping:
                break
            self._wake.clear()
            timeout = SWEEP_SECONDS
            sweep = time.monotonic() - last_sweep >= SWEEP_SECONDS
            if sweep:
                last_sweep = time.monotonic()
            try:
                timeout = await self._round(everything=sweep)
            except Exception:
                log.exception("dispatching jobs to %d agents failed", len(self._agents))

    async def _round(self, everything: bool = False) -> float:
        """One round; returns the seconds until the next one is due at the latest."""
        started = time.perf_counter()
        now = dt.datetime.now(dt.UTC)
        async with self._sessions.begin() as session:
            result = await route_round(
                session,
                set(self._agents),
                self.owner,
                self._blocked,
                now,
                ROUND_MAX,
                everything,
                default_zone=self.time_zone,
            )
        self.rounds += 1
        by_agent: dict[str, list[p.Job]] = {}
        for agent, job in result.jobs:
            by_agent.setdefault(agent, []).append(job)
        for agent, batch in by_agent.items():
            deliver = self._agents.get(agent)
            if deliver is not None:
                deliver(batch)
        self.planned += len(result.jobs) + len(result.fallback)
        self.plan_seconds += result.plan_seconds
        self.round_seconds += time.perf_counter() - started
        if result.fallback and self.fallback is not None:
            await self.fallback(result.fallback)
        if result.more:
            self._wake.set()
        return min(SWEEP_SECONDS, result.next_check or SWEEP_SECONDS)
