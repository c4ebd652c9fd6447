"""Routing as the server keeps it: budgets from the stored messages hold across a restart;
a message says why it waits."""

from __future__ import annotations

from server.agents import dispatch

from .live import ADMIN_TOKEN, eventually, live_server
from .test_bridge_live import MODEM_CONFIG, ScriptedLine, running_agent


async def test_a_lines_minute_budget_holds_across_a_server_restart(tmp_path, monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    db, key = f"sqlite:///{tmp_path}/s.sqlite", str(tmp_path / "k")
    lines: dict[str, ScriptedLine] = {}
    async with live_server(db, key) as server:
        token = (await server.api("POST", "/api/agents", json={"name": "office-1"}))["token"]
        await server.api(
            "POST",
            "/api/accounts",
            json={
                "name": "GSM1",
                "gateway": "modem",
                "config": MODEM_CONFIG + "\nper_minute = 2",
                "default": True,
            },
        )
        async with running_agent(server, tmp_path, token, lines):
            ids = [
                (
                    await server.api(
                        "POST", "/api/messages", json={"to": "+420774884138", "text": t}
                    )
                )["id"]
                for t in ("a", "b")
            ]

            async def both_sent():
                got = [await server.api("GET", f"/api/messages/{i}") for i in ids]
                return all(m["state"] == "sent" for m in got)

            await eventually(both_sent, what="the minute's budget to be used")
    async with live_server(db, key) as server, running_agent(server, tmp_path, token, lines):
        third = await server.api("POST", "/api/messages", json={"to": "+420774884138", "text": "c"})

        async def waits():
            m = await server.api("GET", f"/api/messages/{third['id']}")
            return m if m["detail"] else None

        got = await eventually(waits, what="the reason it waits")
        assert got["state"] == "queued"
        assert "sent 2 of 2 segments this minute" in got["detail"]
        assert third["id"] not in [j.id for j in lines["GSM1"].jobs]


async def test_a_message_for_an_agent_that_is_offline_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setattr(dispatch, "SWEEP_SECONDS", 0.2)
    async with live_server(f"sqlite:///{tmp_path}/s.sqlite", str(tmp_path / "k")) as server:
        await server.api("POST", "/api/agents", json={"name": "office-1"})
        await server.api(
            "POST",
            "/api/accounts",
            json={"name": "GSM1", "gateway": "modem", "config": MODEM_CONFIG, "default": True},
        )
        sent = await server.api("POST", "/api/messages", json={"to": "+420774884138", "text": "x"})

        async def reason():
            return (await server.api("GET", f"/api/messages/{sent['id']}"))["detail"]

        assert await eventually(reason, what="the reason") == (
            "waiting: line office-1/GSM1 agent offline"
        )
