"""Fixtures for the server tests: the same tests run on SQLite and on the real PostgreSQL.

Each test gets a fresh database: a SQLite file in its tmp_path, or a PostgreSQL schema of
its own (created before, dropped after), so reruns and parallel engineers never collide.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from server.app import create_app
from server.db import migrate
from server.db.engine import make_engine
from server.db.tables import Base
from server.gateways.base import Registry
from server.gateways.loopback import Loopback
from server.runtime import Server, open_server
from server.settings import Settings
from sms.model import GatewayType, MessageState
from tests.peers import POSTGRES_URL, require_peer

ADMIN_TOKEN = "sbu_test-admin-token-0123456789"


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Database:
    kind: str
    url: str
    make: Callable[[], AsyncEngine]


async def _migrated(make: Callable[[], AsyncEngine]) -> None:
    engine = make()
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test copies it instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "smsbridge.sqlite"
    asyncio.run(_migrated(lambda: make_engine(f"sqlite:///{path}")))
    return path


def _pg_engine(schema: str) -> AsyncEngine:
    return make_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})


async def pg_execute(sql: str) -> None:
    conn = await asyncpg.connect(_libpq_url(POSTGRES_URL))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    """A schema of this test session, migrated once, dropped at the end."""
    require_peer("postgresql")
    schema = f"smsbridge_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_execute(f'CREATE SCHEMA "{schema}"'))
    try:
        asyncio.run(_migrated(lambda: _pg_engine(schema)))
        yield schema
    finally:
        asyncio.run(pg_execute(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.peer("postgresql"))])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """An empty, migrated database: a copy of the SQLite template, or the session's
    PostgreSQL schema with every table emptied."""
    if request.param == "sqlite":
        path = tmp_path / "smsbridge.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        return Database("sqlite", url, lambda: make_engine(url))
    schema = request.getfixturevalue("pg_schema")
    # DELETE beats TRUNCATE on tables this small (no lock on the whole relation, no fsync).
    tables = reversed(Base.metadata.sorted_tables)
    asyncio.run(pg_execute("; ".join(f'DELETE FROM "{schema}"."{t.name}"' for t in tables)))
    return Database("postgresql", POSTGRES_URL, lambda: _pg_engine(schema))


@pytest.fixture
async def engine(database: Database) -> AsyncIterator[AsyncEngine]:
    engine = database.make()
    yield engine
    await engine.dispose()


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:
    return Settings(db=database.url, key_file=str(tmp_path / "smsbridge.key"))


@pytest.fixture
def loopback() -> Loopback:
    """Stands in for the `url` gateway: acknowledges every job as sent at once."""
    return Loopback(outcome=MessageState.SENT)


@pytest.fixture
async def server(
    settings: Settings, engine: AsyncEngine, loopback: Loopback
) -> AsyncIterator[Server]:
    gateways = Registry({GatewayType.URL: loopback})
    async with open_server(
        settings, engine=engine, gateways=gateways, admin_token=ADMIN_TOKEN
    ) as srv:
        loopback.attach(srv.states)
        yield srv


class Api:
    """An HTTP client on the app, with helpers to act as different users."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def request(
        self, method: str, path: str, token: str | None = ADMIN_TOKEN, **kwargs: object
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
        if token is not None:
            headers.update(self.auth(token))
        return await self.client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]

    async def get(self, path: str, token: str | None = ADMIN_TOKEN, **kw: object) -> httpx.Response:
        return await self.request("GET", path, token, **kw)

    async def post(
        self, path: str, token: str | None = ADMIN_TOKEN, **kw: object
    ) -> httpx.Response:
        return await self.request("POST", path, token, **kw)

    async def patch(
        self, path: str, token: str | None = ADMIN_TOKEN, **kw: object
    ) -> httpx.Response:
        return await self.request("PATCH", path, token, **kw)

    async def delete(
        self, path: str, token: str | None = ADMIN_TOKEN, **kw: object
    ) -> httpx.Response:
        return await self.request("DELETE", path, token, **kw)

    async def user(self, name: str, *rights: str) -> str:
        """Create a user and return its token."""
        r = await self.post("/api/users", json={"name": name, "rights": list(rights)})
        assert r.status_code == 201, r.text
        return r.json()["token"]

    async def account(self, **fields: object) -> dict[str, object]:
        body = {"name": f"acct-{uuid.uuid4().hex[:6]}", "gateway": "url"} | fields
        if body["gateway"] == "url" and "config" not in fields:
            body["config"] = "url = https://sms.example/send?to=[PHONE]&text=[MSG]"
        r = await self.post("/api/accounts", json=body)
        assert r.status_code == 201, r.text
        return r.json()


@pytest.fixture(scope="session")
def app() -> Litestar:
    """One app for the session (building it costs ~0.1 s); each test sets its server."""
    return create_app(Settings())


@pytest.fixture
async def api(server: Server, app: Litestar) -> AsyncIterator[Api]:
    app.state.server = server
    transport = httpx.ASGITransport(app=app)
    # The pages answer in the browser's language (else in Czech): these tests read English.
    headers = {"Accept-Language": "en"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://smsbridge.test", headers=headers
    ) as client:
        yield Api(client)


def error_of(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error", "detail"}, body
    assert body["detail"], body
    return response.status_code, body["error"]


Check = Callable[[httpx.Response], Awaitable[None]]
