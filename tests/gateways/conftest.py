"""Shared pieces for the gateway tests: a sink that records reports, an instant sleep that
remembers the delays asked for, and a log capture that checks for leaked secrets."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from server.app import create_app
from server.db.engine import make_engine
from server.gateways.base import Job
from server.gateways.http import make_client
from server.runtime import Server, open_server
from server.settings import Settings
from tests.server.conftest import ADMIN_TOKEN, Api, sqlite_template  # noqa: F401

from .fakes.smsbrana import FakeSmsbrana


class MemorySink:
    def __init__(self) -> None:
        self.reports: list[tuple[str, str, str | None, str | None]] = []
        self.refs: dict[str, str | None] = {}

    async def report(
        self, message_id: str, state: str, reason: str | None = None, detail: str | None = None
    ) -> None:
        self.reports.append((message_id, state, reason, detail))

    async def sent(self, message_id: str, ref: str | None) -> None:
        self.refs[message_id] = ref
        await self.report(message_id, "sent")

    def state_of(self, message_id: str) -> tuple[str, str | None, str | None]:
        found = [r for r in self.reports if r[0] == message_id]
        assert found, f"no report for {message_id}"
        return found[-1][1:]


class InstantSleep:
    """Backoff without waiting: records each delay and yields to the loop once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def instant() -> InstantSleep:
    return InstantSleep()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = make_client(timeout=httpx.Timeout(5.0, connect=2.0))
    yield client
    await client.aclose()


@pytest.fixture
def fake_smsbrana() -> Iterator[FakeSmsbrana]:
    fake = FakeSmsbrana()
    fake.add_account("acme", "s3cret-Pa55")
    with fake.running():
        yield fake
        if fake.gate is not None:
            fake.gate.set()


def job(
    message_id: str = "m1",
    *,
    to: str = "+420777123456",
    text: str = "Hello world",
    config: dict[str, str] | None = None,
    secrets: dict[str, str] | None = None,
    account_id: int = 1,
) -> Job:
    return Job(
        id=message_id,
        account_id=account_id,
        to=to,
        text=text,
        parts=1,
        config=config or {},
        secrets=secrets or {},
    )


@pytest.fixture
async def srv(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Server]:  # noqa: F811
    """A running server on a SQLite copy, with the real web gateways."""
    path = tmp_path / "smsbridge.sqlite"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    settings = Settings(db=url, key_file=str(tmp_path / "key"))
    engine = make_engine(url)
    async with open_server(settings, engine=engine, admin_token=ADMIN_TOKEN) as server:
        yield server
    await engine.dispose()


@pytest.fixture
async def api(srv: Server) -> AsyncIterator[Api]:
    app = create_app(Settings(), srv)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://smsbridge.test") as client:
        yield Api(client)
