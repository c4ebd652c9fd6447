"""One process leads the web gateways' background work (resume, polling)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db.engine import make_engine
from server.gateways.leader import Leadership, RoundLock
from tests.peers import POSTGRES_URL
from tests.server.conftest import ADMIN_TOKEN


async def _pg_execute(sql: str) -> None:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _pg_engine(schema: str) -> AsyncEngine:
    return make_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})


async def test_on_sqlite_the_second_process_does_not_lead(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'smsbridge.sqlite'}"
    first, second = make_engine(url), make_engine(url)
    a, b = Leadership(first), Leadership(second)
    try:
        assert await a.acquire() is True
        assert await b.acquire() is False
        await a.release()
        assert await b.acquire() is True  # the next start after the leader stopped
    finally:
        await a.release()
        await b.release()
        await first.dispose()
        await second.dispose()


@pytest.mark.peer("postgresql")
async def test_on_postgresql_the_lock_is_per_schema() -> None:
    schema = f"smsbridge_leader_{uuid.uuid4().hex[:12]}"
    await _pg_execute(f'CREATE SCHEMA "{schema}"')
    engines = [_pg_engine(schema) for _ in range(2)]
    a, b = (Leadership(e) for e in engines)
    try:
        assert await a.acquire() is True
        assert await b.acquire() is False
        await a.release()
        assert await b.acquire() is True
    finally:
        await a.release()
        await b.release()
        for e in engines:
            await e.dispose()
        await _pg_execute(f'DROP SCHEMA "{schema}" CASCADE')


async def test_polling_rounds_never_overlap_across_processes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'smsbridge.sqlite'}"
    first, second = make_engine(url), make_engine(url)
    try:
        async with RoundLock(first).hold() as mine:
            assert mine is True
            async with RoundLock(second).hold() as theirs:
                assert theirs is False
        async with RoundLock(second).hold() as theirs:
            assert theirs is True
    finally:
        await first.dispose()
        await second.dispose()


@pytest.mark.peer("postgresql")
async def test_polling_rounds_never_overlap_on_postgresql() -> None:
    schema = f"smsbridge_round_{uuid.uuid4().hex[:12]}"
    await _pg_execute(f'CREATE SCHEMA "{schema}"')
    engines = [_pg_engine(schema) for _ in range(2)]
    try:
        async with RoundLock(engines[0]).hold() as mine:
            assert mine is True
            async with RoundLock(engines[1]).hold() as theirs:
                assert theirs is False
        async with RoundLock(engines[1]).hold() as theirs:
            assert theirs is True
    finally:
        for e in engines:
            await e.dispose()
        await _pg_execute(f'DROP SCHEMA "{schema}" CASCADE')


async def test_a_server_that_does_not_lead_polls_only_when_pushed(srv, api, fake_smsbrana) -> None:
    from server.gateways.web import WebGateways
    from sms.model import GatewayType

    from .test_smsbrana_server import incoming, smsbrana_account

    other = WebGateways(srv.sessions, srv.box, srv.states)
    registry = type(srv.gateways)()
    await other.start(registry, srv.engine)
    try:
        # No interval polling here: only a push reaching this process makes it poll.
        assert other.smsbrana_inbox.interval is None and other.o2_receive.interval is None
        assert registry.get(GatewayType.URL) is other.url  # still sends its own requests
        await smsbrana_account(api, fake_smsbrana, poll_incoming=True)
        fake_smsbrana.inject_incoming("acme", "+420602111222", "via the other worker")
        other.smsbrana_inbox.round_done.clear()
        other.smsbrana_inbox.trigger()
        await asyncio.wait_for(other.smsbrana_inbox.round_done.wait(), 10)
        assert [m["text"] for m in await incoming(api, ADMIN_TOKEN)] == ["via the other worker"]
    finally:
        await other.close()
