"""The live server fixture: a real sms-server on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import pytest

from .live import ADMIN_TOKEN, fresh_pg_database, live_server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.peer("postgresql"))])
async def server(request, tmp_path, monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    if request.param == "sqlite":
        async with live_server(f"sqlite:///{tmp_path}/s.sqlite", str(tmp_path / "k")) as live:
            yield live
        return
    async with (
        fresh_pg_database("smsbridge_live") as url,
        live_server(url, str(tmp_path / "k")) as live,
    ):
        yield live
