"""Several virtual modems on two agents, all lines of one account, a real sms-server
(SQLite) over real WebSockets: the system the routing tests run."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from agent.bridge.runtime import Agent
from agent.config import AgentConfig
from agent.lines import line_factories
from agent.modem.virtual import VirtualModem
from agent.modem.virtual_core import VirtualConfig
from tests.bridge.live import LiveServer, eventually, live_server

AGENTS = ("office-1", "office-2")


@dataclass
class RoutingSystem:
    server: LiveServer
    modems: list[VirtualModem]
    agents: dict[str, Agent]
    account: dict
    lines: list[str] = field(default_factory=list)  # "<agent>/<line>", by position

    async def send(self, to: str, text: str) -> dict:
        return await self.server.api("POST", "/api/messages", json={"to": to, "text": text})

    async def message(self, mid: str) -> dict:
        return await self.server.api("GET", f"/api/messages/{mid}")

    async def loads(self) -> dict[str, dict]:
        out = {}
        for agent in await self.server.api("GET", "/api/agents"):
            for load in agent["line_load"]:
                out[f"{load['agent']}/{load['line']}"] = load
        return out

    async def all_up(self, keys: list[str] | None = None) -> bool:
        loads = await self.loads()
        return all(loads[k]["up"] for k in keys or self.lines)

    async def states(self, ids: list[str]) -> list[dict]:
        return [await self.message(mid) for mid in ids]


def config_text(links: list[str], agents: list[str], extra: str = "", **keys: str) -> str:
    """Line 1 unprefixed, line N `lineN.`; `keys` (per_minute=...) go on every line."""
    out = []
    for n, (link, agent) in enumerate(zip(links, agents, strict=True), start=1):
        prefix = "" if n == 1 else f"line{n}."
        out += [
            f"{prefix}device = {link}",
            f"{prefix}baudrate = 115200",
            f"{prefix}pin =",
            f"{prefix}agent = {agent}",
        ]
        out += [f"{prefix}{k} = {v}" for k, v in keys.items()]
    return "\n".join(out) + ("\n" + extra if extra else "")


@contextlib.asynccontextmanager
async def routing_system(
    tmp_path: Path,
    modems: int = 4,
    extra: str = "",
    modem_config: VirtualConfig | None = None,
    before_account=None,  # async (server) -> str: more config text (e.g. a fallback)
    db_url: str | None = None,  # default: SQLite in tmp_path
    **keys: str,
) -> AsyncIterator[RoutingSystem]:
    """`modems` virtual modems, alternately on office-1 and office-2, as the lines of
    one account `GSM` (the default)."""
    links = [str(tmp_path / f"gsmmodem{n}") for n in range(modems)]
    agents = [AGENTS[n % 2] for n in range(modems)]
    devices = [VirtualModem(modem_config or VirtualConfig(), link=link) for link in links]
    for device in devices:
        device.start()
    running: list[tuple[Agent, asyncio.Task[None]]] = []
    try:
        db = db_url or f"sqlite:///{tmp_path}/s.sqlite"
        async with live_server(db, str(tmp_path / "k")) as server:
            tokens = {}
            for name in AGENTS:
                tokens[name] = (await server.api("POST", "/api/agents", json={"name": name}))[
                    "token"
                ]
            if before_account is not None:
                extra = (extra + "\n" + await before_account(server)).strip()
            account = await server.api(
                "POST",
                "/api/accounts",
                json={
                    "name": "GSM",
                    "gateway": "modem",
                    "config": config_text(links, agents, extra, **keys),
                    "default": True,
                    "poll_incoming": True,
                    "sharing": "all",
                },
            )
            for name in AGENTS:
                cfg = AgentConfig(
                    server=server.ws_url,
                    name=name,
                    token=tokens[name],
                    state_dir=str(tmp_path / f"agent-{name}"),
                    allow=[str(tmp_path / "gsmmodem*")],
                )
                agent = Agent(cfg, line_factories(cfg.state_path))
                running.append((agent, asyncio.create_task(agent.run())))
            names = ["GSM" if n == 0 else f"GSM#{n + 1}" for n in range(modems)]
            system = RoutingSystem(
                server=server,
                modems=devices,
                agents={a.config.name: a for a, _ in running},
                account=account,
                lines=[f"{agent}/{name}" for agent, name in zip(agents, names, strict=True)],
            )
            await eventually(system.all_up, timeout=30, what="every line to come up")
            yield system
            for _, task in running:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    finally:
        for agent, task in running:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            agent.outbox.close()
        for device in devices:
            device.stop()
