"""Group commit: concurrent requests' messages are written together, one transaction and one
fsync for many 202s. Every caller still waits until its own row is committed.

One writer task drains a queue: it takes what is waiting (up to `batch_max` rows), inserts
it in one transaction, commits, and wakes those callers. While it commits, new rows pile up
and make the next batch, so the batch size follows the load with no timer to tune.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..db.tables import Message
from . import changes

log = logging.getLogger("smsbridge.server.writer")

Row = dict[str, Any]
# Core, not the ORM: an ORM bulk insert costs several times more CPU per row, and these
# rows need none of the ORM's identity tracking.
_INSERT = insert(cast(Table, Message.__table__))


class WriterStopped(RuntimeError):
    pass


class MessageWriter:
    def __init__(
        self,
        engine: AsyncEngine,
        batch_max: int = 512,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        # Told after each commit (its rows' message.queued events are in it): the bell.
        self._on_commit = on_commit or (lambda: None)
        self._batch_max = batch_max
        self._queue: asyncio.Queue[tuple[Row, asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        # One connection of its own: no pool checkout and reset per batch, fewer round trips.
        self._conn: AsyncConnection | None = None
        self.batches = 0  # for tests and the benchmark: how many transactions were used
        self.rows = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="message-writer")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        while not self._queue.empty():
            _, fut = self._queue.get_nowait()
            if not fut.done():
                fut.set_exception(WriterStopped("the server is shutting down"))

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def insert(self, row: Row) -> None:
        """Return once `row` is committed; raise IntegrityError if it violates a constraint."""
        if self._task is None:
            raise WriterStopped("the message writer is not running")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((row, fut))
        await fut

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)

    async def _write(self, batch: list[tuple[Row, asyncio.Future[None]]]) -> None:
        try:
            conn = await self._connection()
            rows = [row for row, _ in batch]
            async with conn.begin():
                await conn.execute(_INSERT, rows)
                await changes.queued(conn, rows)
        except IntegrityError:
            # One bad row (a racing Idempotency-Key) must not fail its neighbours: retry
            # each alone so only the offender gets the error.
            for row, fut in batch:
                await self._write_one(row, fut)
            return
        except Exception as exc:
            log.exception("writing %d messages failed", len(batch))
            await self._drop_connection()
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        self.batches += 1
        self.rows += len(batch)
        self._on_commit()
        for _, fut in batch:
            if not fut.done():
                fut.set_result(None)

    async def _connection(self) -> AsyncConnection:
        if self._conn is None:
            self._conn = await self._engine.connect()
        return self._conn

    async def _drop_connection(self) -> None:
        """After an unexpected error the connection may be broken: start afresh next time."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def _write_one(self, row: Row, fut: asyncio.Future[None]) -> None:
        try:
            conn = await self._connection()
            async with conn.begin():
                await conn.execute(_INSERT, [row])
                await changes.queued(conn, [row])
        except Exception as exc:
            if not isinstance(exc, IntegrityError):  # anything else may have broken it
                await self._drop_connection()
            if not fut.done():
                fut.set_exception(exc)
            return
        self.batches += 1
        self.rows += 1
        self._on_commit()
        if not fut.done():
            fut.set_result(None)
