from __future__ import annotations

from tests.server.conftest import Api


async def test_healthz(api: Api) -> None:
    r = await api.get("/healthz", token=None)
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "ok"}
