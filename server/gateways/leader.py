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
        database = self._engine.url.database
        if self._engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return True  # one process can use it; nothing to share
        path = Path(database).resolve().with_suffix(".gateways.lock")
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
