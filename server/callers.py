"""Who a token belongs to, remembered for a few seconds.

Under load every request would otherwise start with the same user lookup. Expiry happens
for all callers at once, so a lookup in flight is shared ("single flight"): fifty requests
that find the entry stale make one query, not fifty (which also emptied the pool).
"""

from __future__ import annotations

import asyncio
import enum
import time

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from .db.tables import User

TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000


class Right(enum.StrEnum):
    ADMIN = "admin"
    SEND = "send"
    READ = "read"


def parse_rights(stored: str) -> frozenset[Right]:
    return frozenset(Right(r) for r in stored.split(",") if r)


class Caller(msgspec.Struct, frozen=True):
    id: int
    name: str
    rights: frozenset[Right]

    @property
    def is_admin(self) -> bool:
        return Right.ADMIN in self.rights

    @property
    def can_send(self) -> bool:
        return Right.SEND in self.rights or self.is_admin

    @property
    def can_read(self) -> bool:
        return Right.READ in self.rights or self.is_admin


class TokenCache:
    def __init__(self, sessions: async_sessionmaker, ttl: float = TTL_SECONDS) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._entries: dict[str, tuple[float, Caller]] = {}
        self._inflight: dict[str, asyncio.Task[Caller | None]] = {}

    def clear(self) -> None:
        self._entries.clear()

    async def lookup(self, digest: str) -> Caller | None:
        """The caller whose token hashes to `digest`, or None for an unknown token."""
        hit = self._entries.get(digest)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        task = self._inflight.get(digest)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._load(digest))
            self._inflight[digest] = task
            task.add_done_callback(lambda _: self._inflight.pop(digest, None))
        # shield: one impatient client going away must not cancel the others' lookup
        return await asyncio.shield(task)

    async def _load(self, digest: str) -> Caller | None:
        async with self._sessions() as session:
            user = (await session.execute(select(User).where(User.token_hash == digest))).scalar()
        if user is None:
            return None
        caller = Caller(user.id, user.name, parse_rights(user.rights))
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = (time.monotonic() + self._ttl, caller)
        return caller
