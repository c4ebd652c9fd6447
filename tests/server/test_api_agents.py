"""/api/agents: registration, the token shown once, lines and queue depth."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from server.db.tables import Agent
from server.runtime import Server
from tests.server.conftest import Api, error_of


async def test_register_an_agent_and_list_it(api: Api, server: Server) -> None:
    r = await api.post("/api/agents", json={"name": "office-1"})
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == "office-1"
    assert body["token"].startswith("sba_")
    async with server.sessions() as session:
        stored = (await session.execute(select(Agent.token_hash))).scalar()
    assert stored == hashlib.sha256(body["token"].encode()).hexdigest()
    assert (await api.get("/api/agents")).json() == [
        {
            "name": "office-1",
            "online": False,
            "lines": [],
            "queue_depth": 0,
            "last_seen_at": None,
            "line_status": [],
            "line_load": [],
        }
    ]


async def test_agent_lists_its_accounts_and_queued_messages(api: Api) -> None:
    await api.post("/api/agents", json={"name": "office-1"})
    await api.post("/api/agents", json={"name": "office-2"})
    config = "in = /var/spool/sms/incoming\nout = /var/spool/sms/outgoing\nmodem = GSM1\n"
    one = await api.account(name="Spool", gateway="smstools", config=config + "agent = office-1")
    await api.account(
        name="Modem",
        gateway="modem",
        config="device = /dev/gsmmodem0\nbaudrate = 115200\npin =\nagent = office-1",
    )
    for text in ("a", "b"):
        body = {"to": "+420774884138", "text": text, "account": one["id"]}
        assert (await api.post("/api/messages", json=body)).status_code == 202
    listed = {a["name"]: a for a in (await api.get("/api/agents")).json()}
    assert listed["office-1"]["lines"] == ["Modem", "Spool"]
    assert listed["office-1"]["queue_depth"] == 2
    assert listed["office-2"]["lines"] == []
    assert listed["office-2"]["queue_depth"] == 0


async def test_duplicate_agent_name_is_a_conflict(api: Api) -> None:
    await api.post("/api/agents", json={"name": "office-1"})
    assert error_of(await api.post("/api/agents", json={"name": "office-1"})) == (409, "name_taken")


async def test_only_admins_manage_agents(api: Api) -> None:
    token = await api.user("user", "send", "read")
    assert error_of(await api.get("/api/agents", token=token)) == (403, "forbidden")
    r = await api.post("/api/agents", token=token, json={"name": "x"})
    assert error_of(r) == (403, "forbidden")


async def test_an_agent_token_is_not_an_api_token(api: Api) -> None:
    token = (await api.post("/api/agents", json={"name": "office-1"})).json()["token"]
    assert error_of(await api.get("/api/accounts", token=token)) == (401, "unauthorized")


async def test_agent_name_must_be_a_plain_name(api: Api) -> None:
    r = await api.post("/api/agents", json={"name": "../etc"})
    assert error_of(r) == (400, "invalid_request")
