"""Which process runs the web gateways' background work. With `--workers N` every worker
opens the server; the sends of each worker's own requests are its own, but resuming
`queued` messages and polling inboxes must happen once, or a URL gateway message would go
out twice and two polls would race to store the same incoming SMS.

The first process to take the lock leads until it stops: a PostgreSQL advisory lock
(held by one open connection; per schema, so test schemas do not contend), else a file
lock beside the SQLite database.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("smsbridge.server.gateways")

_PG_KEY = "hashtext('smsbridge.gateways.' || current_schema())"
_PG_LOCK = f"select pg_try_advisory_lock({_PG_KEY})"
# Closing the connection only returns it to the pool, where the session (and its lock)
# lives on: unlock explicitly.
_PG_UNLOCK = f"select pg_advisory_unlock({_PG_KEY})"


class Leadership:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._fd: int | None = None

    async def acquire(self) -> bool:
        if self._engine.dialect.name == "postgresql":
            conn = await self._engine.connect()
            got = bool((await conn.execute(text(_PG_LOCK))).scalar())
            if got:
                self._conn = conn
            else:
                await conn.close()
            return got
        path = _sqlite_lock_path(self._engine, ".gateways.lock")
        if path is None:
            return True  # an in-memory database: one process, nothing to share
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.execute(text(_PG_UNLOCK))
                await self._conn.commit()
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_PG_ROUND = "select pg_try_advisory_xact_lock(hashtext('smsbridge.poll.' || current_schema()))"


class RoundLock:
    """One polling round at a time across the server's processes: the leader polls on its
    interval, and any worker polls when a push reaches it, but never two at once."""

    def __init__(self, engine: AsyncEngine | None) -> None:
        self._engine = engine

    @contextlib.asynccontextmanager
    async def hold(self) -> AsyncIterator[bool]:
        """Yields whether this process got the round; skip the round when it did not."""
        engine = self._engine
        if engine is not None and engine.dialect.name == "postgresql":
            async with engine.connect() as conn, conn.begin():
                # Released when this transaction ends, however the round ends.
                yield bool((await conn.execute(text(_PG_ROUND))).scalar())
            return
        path = _sqlite_lock_path(engine, ".poll.lock")
        if path is None:
            yield True
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing drops the flock


def _sqlite_lock_path(engine: AsyncEngine | None, suffix: str) -> Path | None:
    if engine is None or engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).resolve().with_suffix(suffix)
