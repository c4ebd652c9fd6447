"""The whole system for integration tests: a real sms-server (SQLite), one agent-backed
account named `line`, and the agent runtime with its real line factories."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from agent.bridge.runtime import Agent
from agent.config import AgentConfig
from agent.lines import line_factories
from tests.bridge.live import LiveServer, live_server


@contextlib.asynccontextmanager
async def running_system(
    tmp_path: Path,
    gateway: str,
    config: str,
    allow: list[str],
    line: str = "GSM1",
    **settings: Any,
) -> AsyncIterator[tuple[LiveServer, Agent]]:
    """`config` is the account's text without its `agent` line; `settings`: the server's."""
    db = f"sqlite:///{tmp_path}/s.sqlite"
    async with live_server(db, str(tmp_path / "k"), **settings) as server:
        token = (await server.api("POST", "/api/agents", json={"name": "office-1"}))["token"]
        await server.api(
            "POST",
            "/api/accounts",
            json={
                "name": line,
                "gateway": gateway,
                "config": config + "\nagent = office-1",
                "default": True,
                "poll_incoming": True,
                "sharing": "all",
            },
        )
        cfg = AgentConfig(
            server=server.ws_url,
            name="office-1",
            token=token,
            state_dir=str(tmp_path / "agent"),
            allow=allow,
        )
        agent = Agent(cfg, line_factories(cfg.state_path))
        task = asyncio.create_task(agent.run())
        try:
            yield server, agent
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            agent.outbox.close()
