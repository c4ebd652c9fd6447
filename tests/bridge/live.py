"""A real sms-server on a free loopback port, an HTTP client for its API, and a real
agent process-in-a-task talking to it over a real WebSocket."""

from __future__ import annotations

import asyncio
import ssl
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import uvicorn
from sqlalchemy.engine import make_url

from server.app import create_app
from server.settings import Settings
from tests.peers import POSTGRES_URL
from tests.waiting import eventually

ADMIN_TOKEN = "sbu_live-admin-token-0123456789abcdef"


@dataclass
class LiveServer:
    url: str
    ws_url: str
    http: httpx.AsyncClient
    uvicorn: uvicorn.Server

    async def api(self, method: str, path: str, **kw: Any) -> Any:
        r = await self.http.request(method, path, **kw)
        if r.status_code >= 400:
            raise AssertionError(f"{method} {path} → {r.status_code}: {r.text}")
        return r.json() if r.content else None


@asynccontextmanager
async def live_server(
    db_url: str, key_file: str, tls: tuple[str, str, str] | None = None, **more: Any
) -> AsyncIterator[LiveServer]:
    """`tls`: (certificate chain, key, CA that signed it) to serve https/wss; `more`: other
    settings (e.g. strict_translations=True)."""
    settings = Settings(db=db_url, key_file=key_file, **more)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=3,  # a refused TLS handshake can leave a socket behind
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, what="uvicorn to start")
    port = server.servers[0].sockets[0].getsockname()[1]
    scheme = "https" if tls else "http"
    url = f"{scheme}://localhost:{port}" if tls else f"http://127.0.0.1:{port}"
    ws_url = f"wss://localhost:{port}/agent" if tls else f"ws://127.0.0.1:{port}/agent"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    verify: bool | ssl.SSLContext = ssl.create_default_context(cafile=tls[2]) if tls else True
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10, verify=verify) as http:
        try:
            yield LiveServer(url, ws_url, http, server)
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 15)


async def pg_admin(sql: str) -> None:
    """Run one statement on the test PostgreSQL as its administrator (CREATE DATABASE…)."""
    libpq = make_url(POSTGRES_URL).set(drivername="postgresql")
    conn = await asyncpg.connect(libpq.render_as_string(hide_password=False))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def fresh_pg_database(prefix: str, driver: str | None = None) -> AsyncIterator[str]:
    """A database of its own on the test PostgreSQL, dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(POSTGRES_URL).set(database=name)
        if driver:
            url = url.set(drivername=driver)
        yield url.render_as_string(hide_password=False)
    finally:
        await pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)')
