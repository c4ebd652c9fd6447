"""Group commit for what agents report: job acks, events and line statuses from every
connected agent are applied together, one transaction for whatever has piled up while
the previous one committed. Each connection still waits until its own items are
committed before it acknowledges them to its agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec
from sqlalchemy.ext.asyncio import async_sessionmaker

from bridge import protocol as p

from ..db.tables import Agent
from . import authority, store

log = logging.getLogger("smsbridge.server.agents")

Item = p.JobAck | p.Event | p.LineStatus


class Batch(msgspec.Struct):
    agent: Agent
    owner: str  # the connection, for job leases
    items: list[Item]
    kinds: dict[str, str]


class Applier:
    def __init__(self, sessions: async_sessionmaker, batch_max: int = 2000) -> None:
        self._sessions = sessions
        self._batch_max = batch_max
        self._queue: asyncio.Queue[tuple[Batch, asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.transactions = 0
        # Called with (agent, reason) for each report an agent may not make (authority.py).
        self.on_refused: authority.OnRefused | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="agent-applier")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while not self._queue.empty():
            _, fut = self._queue.get_nowait()
            if not fut.done():
                fut.set_exception(RuntimeError("the server is shutting down"))

    async def apply(self, batch: Batch) -> None:
        """Return once the batch is committed (raise if it could not be)."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((batch, fut))
        await fut

    async def _run(self) -> None:
        while True:
            work = [await self._queue.get()]
            size = len(work[0][0].items)
            while size < self._batch_max and not self._queue.empty():
                work.append(self._queue.get_nowait())
                size += len(work[-1][0].items)
            try:
                async with self._sessions.begin() as session:
                    for batch, _ in work:
                        await _apply(session, await self._screened(session, batch))
            except Exception as exc:
                log.exception("applying %d agent reports failed", size)
                for _, fut in work:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            self.transactions += 1
            for _, fut in work:
                if not fut.done():
                    fut.set_result(None)

    async def _screened(self, session: object, batch: Batch) -> Batch:
        items = await authority.screen(
            session,  # type: ignore[arg-type]
            batch.agent.name,
            batch.owner,
            batch.items,
            set(batch.kinds),
            self.on_refused,
        )
        return msgspec.structs.replace(batch, items=items)


async def _apply(session: object, batch: Batch) -> None:
    acks = [i for i in batch.items if isinstance(i, p.JobAck)]
    if acks:
        await store.jobs_acked(session, acks, batch.owner)  # type: ignore[arg-type]
    for item in batch.items:
        if isinstance(item, p.LineStatus):
            await store.save_line_status(session, batch.agent, item)  # type: ignore[arg-type]
        elif isinstance(item, p.EVENT_TYPES):
            await store.apply_event(session, batch.agent, item, batch.kinds)  # type: ignore[arg-type]
