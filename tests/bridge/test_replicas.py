"""Several sms-server replicas on one PostgreSQL: a message posted to one reaches the agent
connected to another, woken by NOTIFY (the periodic sweep is switched off here, so only
the notification can deliver it)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from agent.bridge.runtime import Agent
from agent.config import AgentConfig
from server.agents import dispatch

from .live import ADMIN_TOKEN, eventually, fresh_pg_database, live_server
from .test_bridge_live import MODEM_CONFIG, ScriptedLine

pytestmark = pytest.mark.peer("postgresql")


async def test_a_message_posted_to_one_replica_reaches_an_agent_on_another(tmp_path, monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setattr(dispatch, "SWEEP_SECONDS", 3600.0)
    key = str(tmp_path / "server.key")  # replicas share the server key, as they must
    async with (
        fresh_pg_database("smsbridge_replicas") as url,
        live_server(url, key) as a,
        live_server(url, key) as b,
    ):
        token = (await a.api("POST", "/api/agents", json={"name": "office-1"}))["token"]
        await a.api(
            "POST",
            "/api/accounts",
            json={"name": "GSM1", "gateway": "modem", "config": MODEM_CONFIG, "default": True},
        )
        lines: dict[str, ScriptedLine] = {}

        def factory(push):
            lines[push.line] = ScriptedLine(push.line, dict(push.config))
            return lines[push.line]

        config = AgentConfig(
            server=b.ws_url,  # the agent talks to replica B only
            name="office-1",
            token=token,
            state_dir=str(tmp_path / "agent"),
            allow=["/dev/gsmmodem*"],
        )
        agent = Agent(config, {"modem": factory})
        task = asyncio.create_task(agent.run())
        try:
            await eventually(lambda: "GSM1" in lines, what="the agent on replica B")
            sent = await a.api(
                "POST", "/api/messages", json={"to": "+420774884138", "text": "via A"}
            )

            async def is_sent():
                return (await a.api("GET", f"/api/messages/{sent['id']}"))["state"] == "sent"

            await eventually(is_sent, timeout=10, what="the job to cross replicas")
            assert [j.id for j in lines["GSM1"].jobs] == [sent["id"]]
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            agent.outbox.close()


async def test_an_accounts_lines_on_agents_of_two_replicas_share_its_messages_once(
    tmp_path, monkeypatch
):
    """Each replica hands jobs only to the agents connected to it; both take from the
    account's one queue (SKIP LOCKED), and no message goes out twice."""
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    key = str(tmp_path / "server.key")
    async with (
        fresh_pg_database("smsbridge_replicas") as url,
        live_server(url, key) as a,
        live_server(url, key) as b,
    ):
        tokens = {
            name: (await a.api("POST", "/api/agents", json={"name": name}))["token"]
            for name in ("office-1", "office-2")
        }
        config = (
            MODEM_CONFIG + "\nline2.device = /dev/gsmmodem1\nline2.baudrate = 115200\n"
            "line2.pin =\nline2.agent = office-2"
        )
        await a.api(
            "POST",
            "/api/accounts",
            json={"name": "GSM", "gateway": "modem", "config": config, "default": True},
        )
        lines: dict[str, ScriptedLine] = {}

        def factory(push):
            lines[push.line] = ScriptedLine(push.line, dict(push.config))
            return lines[push.line]

        agents, tasks = [], []
        for name, replica in (("office-1", a), ("office-2", b)):
            agent = Agent(
                AgentConfig(
                    server=replica.ws_url,
                    name=name,
                    token=tokens[name],
                    state_dir=str(tmp_path / name),
                    allow=["/dev/gsmmodem*"],
                ),
                {"modem": factory},
            )
            agents.append(agent)
            tasks.append(asyncio.create_task(agent.run()))
        try:
            await eventually(lambda: {"GSM", "GSM#2"} <= set(lines), what="both lines")
            ids = [
                (
                    await a.api(
                        "POST", "/api/messages", json={"to": f"+42077400{i:04d}", "text": "x"}
                    )
                )["id"]
                for i in range(40)
            ]

            async def all_sent():
                got = [(await b.api("GET", f"/api/messages/{mid}"))["state"] for mid in ids]
                return all(s == "sent" for s in got)

            await eventually(all_sent, timeout=30, what="every message sent")
            handed = [j.id for line in lines.values() for j in line.jobs]
            assert sorted(handed) == sorted(ids)  # each exactly once
            assert lines["GSM"].jobs and lines["GSM#2"].jobs  # both replicas' agents sent
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for agent in agents:
                agent.outbox.close()
