"""The live server fixture: a real sms-server on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.peers import POSTGRES_URL

from .live import ADMIN_TOKEN, live_server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.peer("postgresql"))])
async def server(request, tmp_path, monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    if request.param == "sqlite":
        async with live_server(f"sqlite:///{tmp_path}/s.sqlite", str(tmp_path / "k")) as live:
            yield live
        return
    name = f"smsbridge_live_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        async with live_server(url, str(tmp_path / "k")) as live:
            yield live
    finally:
        await _pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)')


async def _pg_admin(sql: str) -> None:
    libpq = make_url(POSTGRES_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(libpq.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
