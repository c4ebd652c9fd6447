"""The token cache: one lookup for many concurrent requests, unknown tokens never cached."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from server.callers import Right, TokenCache
from server.runtime import Server
from server.tokens import hash_token
from tests.server.conftest import ADMIN_TOKEN


def count_user_lookups(server: Server) -> list[str]:
    seen: list[str] = []

    def before(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if "FROM users" in statement:
            seen.append(statement)

    event.listen(server.engine.sync_engine, "before_cursor_execute", before)
    return seen


async def test_concurrent_lookups_share_one_query(server: Server) -> None:
    cache = TokenCache(server.sessions)
    queries = count_user_lookups(server)
    callers = await asyncio.gather(*(cache.lookup(hash_token(ADMIN_TOKEN)) for _ in range(20)))
    assert {c.name if c else None for c in callers} == {"admin"}
    assert callers[0] is not None and callers[0].rights == {Right.ADMIN, Right.READ, Right.SEND}
    assert len(queries) == 1
    await cache.lookup(hash_token(ADMIN_TOKEN))
    assert len(queries) == 1  # still fresh


async def test_expired_entries_are_looked_up_again(server: Server) -> None:
    cache = TokenCache(server.sessions, ttl=0)
    queries = count_user_lookups(server)
    for _ in range(3):
        assert await cache.lookup(hash_token(ADMIN_TOKEN)) is not None
    assert len(queries) == 3


async def test_unknown_tokens_are_not_remembered(server: Server) -> None:
    cache = TokenCache(server.sessions)
    queries = count_user_lookups(server)
    assert await cache.lookup(hash_token("nope")) is None
    assert await cache.lookup(hash_token("nope")) is None
    assert len(queries) == 2
