"""The whole system through the daemons that other sites already run beside a modem:
real smsd (smstools3) on the virtual modem, and SMSLib's tables on the real PostgreSQL
with a stand-in SMSServer; each with a real sms-server and the agent runtime."""

from __future__ import annotations

import asyncio
import contextlib
import types

import pytest
import sqlalchemy as sa

from agent.modem.virtual import VirtualModem
from agent.modem.virtual_core import VirtualConfig
from agent.spool.smslib_tables import SmslibTables
from tests.bridge.live import ADMIN_TOKEN, eventually, fresh_pg_database
from tests.spool.smsd_daemon import Smsd
from tests.spool.smsserver_standin import StandinSMSServer

from .system import running_system


@pytest.fixture(autouse=True)
def admin_token(monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)


@contextlib.asynccontextmanager
async def system(tmp_path, gateway: str, config: str, allow: list[str]):
    async with running_system(tmp_path, gateway, config, allow, line="LINE1") as (server, agent):
        await eventually(lambda: "LINE1" in agent.workers, what="the line to start")
        yield server


async def state_is(server, mid, *states):
    return (await server.api("GET", f"/api/messages/{mid}"))["state"] in states


async def inbound(server):
    return (await server.api("GET", "/api/messages", params={"direction": "in"}))["messages"]


@pytest.mark.peer("smsd")
async def test_smsd_on_the_virtual_modem_sends_and_receives_for_the_server(tmp_path):
    modem = VirtualModem(VirtualConfig())
    modem.start()
    root = tmp_path / "spool"
    root.mkdir()
    smsd = Smsd(root, types.SimpleNamespace(device=modem.path))
    smsd.start()
    config = "\n".join(
        [
            f"in = {root}/incoming",
            f"out = {root}/outgoing",
            f"sent = {root}/sent",
            f"failed = {root}/failed",
            "modem = GSM1",
        ]
    )
    try:
        async with system(tmp_path, "smstools", config, [f"{root}/**"]) as server:
            sent = await server.api(
                "POST", "/api/messages", json={"to": "+420774884138", "text": "Přes smsd"}
            )
            await eventually(
                lambda: state_is(server, sent["id"], "sent", "delivered"),
                timeout=60,
                what="smsd to send it",
            )
            assert [s.submit.text for s in modem.submissions] == ["Přes smsd"]
            modem.deliver("+420603123456", "Odpověď přes smsd")
            (reply,) = await eventually(lambda: inbound(server), timeout=60, what="the reply")
            assert (reply["from"], reply["text"]) == ("+420603123456", "Odpověď přes smsd")
    finally:
        smsd.stop()
        modem.stop()


@pytest.mark.peer("postgresql")
async def test_smslib_tables_on_postgresql_carry_messages_both_ways(tmp_path):
    async with fresh_pg_database("smsbridge_smslib", "postgresql+pg8000") as url:
        await _smslib_on(tmp_path, url)


async def _smslib_on(tmp_path, url: str) -> None:
    name = sa.make_url(url).database
    engine = sa.create_engine(url)
    tables = SmslibTables()
    tables.create(engine)
    smsserver = StandinSMSServer(engine, tables, gateway="modem1")
    config = "\n".join(
        [
            "sqlDriver = org.postgresql.Driver",
            f"sqlURL = jdbc:postgresql://127.0.0.1:5432/{name}",
            "sqlUser = postgres",
            "sqlPassword = ",
            "gatewayId = modem1",
        ]
    )
    try:
        async with system(
            tmp_path, "smslib", config, ["jdbc:postgresql://127.0.0.1:5432/*"]
        ) as server:
            sent = await server.api(
                "POST", "/api/messages", json={"to": "+420774884138", "text": "Přes SMSLib"}
            )

            async def smsserver_sent_it():
                await asyncio.to_thread(smsserver.outbound_poll)
                return await state_is(server, sent["id"], "sent", "delivered")

            await eventually(smsserver_sent_it, timeout=60, what="SMSServer to send it")
            await asyncio.to_thread(smsserver.receive, "+420603123456", "Odpověď přes SMSLib")
            (reply,) = await eventually(lambda: inbound(server), timeout=60, what="the reply")
            assert reply["text"] == "Odpověď přes SMSLib"
            assert reply["from"] == "+420603123456"
    finally:
        engine.dispose()
