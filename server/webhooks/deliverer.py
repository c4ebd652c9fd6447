"""Sends the webhooks' deliveries: claims what is due, posts each in a task of its own
(an endpoint that is slow or down holds only its own slots), and records the outcomes in
group commits. Runs in every server process; leases keep two from sending one delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from ..background import stop_loop
from ..db.tables import Webhook
from ..events.bell import Bell
from ..keys import SecretBox
from . import signing, store
from .http import Endpoint, ExchangeError
from .store import Claimed, Outcome, Policy

log = logging.getLogger("smsbridge.server.webhooks")

PER_ENDPOINT = 64  # requests in flight to one endpoint
# After a round that found work, gather for this long before the next: under load, rounds
# (each one transaction) take bigger batches instead of one per commit of the API.
ROUND_GAP = 0.025
IDLE_CHECK = 5.0  # seconds between looks when nothing is due (other processes' work)
ANSWER_BYTES = 200


class Deliverer:
    def __init__(
        self,
        sessions: async_sessionmaker,
        box: SecretBox,
        bell: Bell,
        owner: str,
        *,
        timeout: float,
        policy: Policy,
        per_endpoint: int = PER_ENDPOINT,
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._owner = owner
        self.timeout = timeout
        self.policy = policy
        self.per_endpoint = per_endpoint
        self.lease = dt.timedelta(seconds=timeout * 2 + 30)
        self._wake = asyncio.Event()
        bell.listen(self._wake.set)
        self._endpoints: dict[str, Endpoint] = {}  # url → its kept connections
        self._in_flight: Counter[int] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._results: list[Outcome] = []
        self._task: asyncio.Task[None] | None = None
        self._rng = random.Random()
        self.results: Counter[str] = Counter()  # by result since start, for /metrics
        self._stopping = False
        self.rounds = 0  # transactions of record + fan-out + claim (the benchmark)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="webhook-deliverer")

    def kick(self) -> None:
        """Look for work now (a new webhook, a redelivery, a test event)."""
        self._wake.set()

    async def stop(self) -> None:
        self._stopping = True
        await stop_loop(self._task, self._wake)
        self._task = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # Outcomes already in hand are kept; the cancelled attempts' leases are given back
        # so the next process (a restart) tries them at once, not after the lease.
        with contextlib.suppress(Exception):
            await self._flush()
            async with self._sessions.begin() as session:
                await store.release(session, self._owner)
        for endpoint in self._endpoints.values():
            endpoint.close()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            timeout = IDLE_CHECK
            try:
                timeout = await self._round()
            except Exception:
                log.exception("webhook round failed")
                timeout = 1.0
            if self._tasks:
                await asyncio.sleep(ROUND_GAP)
            if timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)

    async def _round(self) -> float:
        """Record the outcomes in hand, fan out, claim, start the attempts (one transaction);
        seconds until the next round at most."""
        batch, self._results = self._results, []
        free = {w: self.per_endpoint - n for w, n in self._in_flight.items()}
        try:
            async with self._sessions.begin() as session:
                counts = await store.record(session, batch, self.policy, self._rng, self._owner)
                await store.fan_out(session)
                claimed, hooks, due = await self._claim(session, free)
        except Exception:
            self._results = batch + self._results  # recorded next round
            raise
        self.results.update(counts)
        self.rounds += 1
        for c in claimed:
            url, secret = hooks[c.webhook_id]
            self._in_flight[c.webhook_id] += 1
            task = asyncio.create_task(self._attempt(c, url, secret))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if claimed or self._results:
            return IDLE_CHECK  # the attempts wake the next round as they end
        if due is None:
            return IDLE_CHECK
        left = (due - store.now()).total_seconds()
        return max(0.01, min(IDLE_CHECK, left))

    async def _claim(
        self, session: Any, free: dict[int, int]
    ) -> tuple[list[Claimed], dict[int, tuple[str, str]], dt.datetime | None]:
        claimed = await store.claim(session, self._owner, free, self.lease, self.per_endpoint)
        hooks = {}
        if claimed:
            ids = {c.webhook_id for c in claimed}
            for hook in (
                await session.execute(select(Webhook).where(Webhook.id.in_(ids)))
            ).scalars():
                hooks[hook.id] = (hook.url, self._box.open(hook.secret)["secret"])
        due = None if claimed else await store.next_due(session)
        return claimed, hooks, due

    async def _attempt(self, c: Claimed, url: str, secret: str) -> None:
        body = c.payload.encode()
        headers = signing.headers(secret, c.event_id, int(time.time()), body)
        at = store.now()
        started = time.perf_counter()
        code: int | None = None
        endpoint = self._endpoints.get(url)
        if endpoint is None:
            endpoint = self._endpoints[url] = Endpoint(url)
        try:
            code, answer = await endpoint.post(body, headers, self.timeout, ANSWER_BYTES)
            text = answer.decode("utf-8", "replace")
        except TimeoutError:
            endpoint.close()
            text = f"no answer within {self.timeout:g} s"
        except ExchangeError as exc:
            text = str(exc)[:ANSWER_BYTES]
        except Exception as exc:  # never lose the outcome: it is retried like any failure
            log.exception("webhook attempt %s failed unexpectedly", c.id)
            text = f"internal error: {type(exc).__name__}"
        finally:
            self._in_flight[c.webhook_id] -= 1
            if self._in_flight[c.webhook_id] <= 0:
                del self._in_flight[c.webhook_id]
        latency = (time.perf_counter() - started) * 1000
        self._results.append(Outcome(c, at, code, latency, text))
        self._wake.set()

    async def _flush(self) -> None:
        if not self._results:
            return
        batch, self._results = self._results, []
        try:
            async with self._sessions.begin() as session:
                counts = await store.record(session, batch, self.policy, self._rng, self._owner)
        except Exception:
            self._results = batch + self._results  # try again next round
            raise
        self.results.update(counts)
