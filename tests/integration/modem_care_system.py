"""Real sms-server and sms-agent processes around a virtual modem, for the modem-care
tests (recovery ladder, balance, calls)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from agent.modem.virtual import VirtualModem
from agent.modem.virtual_core import VirtualConfig
from tests.waiting import eventually

from .chaos_tools import Process, free_port

TOKEN = "sbu_modem-care-admin-token-0123456789ab"


class CareSystem:
    def __init__(self, http: httpx.AsyncClient, modem: VirtualModem, agent: Process) -> None:
        self.http = http
        self.modem = modem
        self.agent = agent

    async def line(self) -> dict | None:
        agents = (await self.http.get("/api/agents")).json()
        statuses = agents[0]["line_status"] if agents else []
        return statuses[0] if statuses else None

    async def line_where(self, check, what: str, timeout: float = 30.0) -> dict:
        async def probe() -> dict | None:
            status = await self.line()
            return status if status and check(status) else None

        return await eventually(probe, timeout, what, interval=0.1, ignore=(httpx.HTTPError,))

    async def post(self, text: str) -> str:
        r = await self.http.post("/api/messages", json={"to": "+420774884138", "text": text})
        assert r.status_code == 202, r.text
        return r.json()["id"]

    async def message(self, mid: str) -> dict:
        return (await self.http.get(f"/api/messages/{mid}")).json()


@contextlib.asynccontextmanager
async def care_system(
    tmp_path: Path, config: VirtualConfig, account: str
) -> AsyncIterator[CareSystem]:
    """`account`: extra `key = value` lines of the modem account."""
    link = str(tmp_path / "gsmmodem0")
    modem = VirtualModem(config, link=link)
    modem.start()
    port = free_port()
    server = Process(
        "sms-server",
        ["sms-server", "--db", f"sqlite:///{tmp_path}/server.sqlite", "--port", str(port),
         "--key-file", str(tmp_path / "server.key"), "--log-level", "warning"],
        tmp_path,
        {"SMSBRIDGE_ADMIN_TOKEN": TOKEN},
    )  # fmt: skip
    server.start()
    http = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    agent = Process(
        "sms-agent", ["sms-agent", "run", "--config", str(tmp_path / "agent.toml")], tmp_path, {}
    )
    try:

        async def healthy() -> bool:
            return (await http.get("/healthz")).status_code == 200

        await eventually(healthy, 30, "sms-server", interval=0.1, ignore=(httpx.HTTPError,))
        token = (await http.post("/api/agents", json={"name": "care"})).json()["token"]
        r = await http.post(
            "/api/accounts",
            json={
                "name": "GSM1",
                "gateway": "modem",
                "config": f"device = {link}\nbaudrate = 115200\npin =\n{account}\nagent = care",
                "default": True,
            },
        )
        assert r.status_code == 201, r.text
        (tmp_path / "agent.toml").write_text(
            f'server = "ws://127.0.0.1:{port}/agent"\nname = "care"\n'
            f'token = "{token}"\nstate_dir = "{tmp_path}/agent"\n'
            f'allow = ["{tmp_path}/gsmmodem*"]\nreconnect_max_seconds = 1.0\n'
        )
        agent.start()
        system = CareSystem(http, modem, agent)
        try:
            await system.line_where(lambda s: s["up"], "the modem line to come up")
            yield system
        except BaseException as exc:
            raise AssertionError(
                f"{exc}\n--- agent log\n{agent.tail()}\n--- server log\n{server.tail()}"
            ) from exc
    finally:
        agent.stop()
        server.stop()
        await http.aclose()
        modem.stop()
