"""GET /api/events: order and cursor, types, visibility as GET /api/messages, the long
poll woken by a commit (in this process, and on PostgreSQL from another replica), and a
clear 410 for a cursor past the retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from sqlalchemy import update

from server.db.tables import Event
from server.events.feed import prune
from server.gateways.base import Registry
from server.gateways.loopback import Loopback
from server.runtime import Server, open_server
from server.settings import Settings
from sms.model import GatewayType, MessageState
from tests.server.conftest import ADMIN_TOKEN, Api, Database, error_of


async def feed(api: Api, token: str = ADMIN_TOKEN, **params: object) -> dict:
    r = await api.get("/api/events", token, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def send(api: Api, token: str = ADMIN_TOKEN, **body: object) -> str:
    r = await api.post("/api/messages", token, json={"to": "+420777123456", "text": "Hi"} | body)
    assert r.status_code == 202, r.text
    return r.json()["id"]


async def test_pages_follow_the_cursor_in_order(api: Api, server: Server) -> None:
    account = (await api.account())["id"]
    ids = [await send(api, account=account) for _ in range(3)]
    first = await feed(api, limit=4)
    assert [e["type"] for e in first["events"]] == ["message.queued", "message.sent"] * 2
    rest = await feed(api, after=first["next"])
    assert [e["data"]["message"] for e in rest["events"]] == [ids[2], ids[2]]
    assert (await feed(api, after=rest["next"]))["events"] == []
    sent = await feed(api, types="message.sent")
    assert [e["data"]["message"] for e in sent["events"]] == ids
    assert all(e["id"].startswith("evt_") and e["time"] for e in first["events"])


async def test_bad_types_and_cursors_are_named(api: Api, server: Server) -> None:
    r = await api.get("/api/events", params={"types": "message.sentt"})
    assert error_of(r) == (400, "invalid_request") and "message.sentt" in r.json()["detail"]
    r = await api.get("/api/events", params={"after": "-1"})
    assert r.status_code == 400
    r = await api.get("/api/events", params={"wait": "61"})
    assert r.status_code == 400


async def test_a_user_sees_the_events_of_the_messages_they_may_read(
    api: Api, server: Server
) -> None:
    alice = await api.user("alice", "send", "read")
    bob = await api.user("bob", "send", "read")
    shared = (await api.account(owner="alice", sharing="all"))["id"]
    private = (await api.account(owner="alice", sharing="private"))["id"]
    mine = await send(api, alice, account=shared)
    async with server.sessions.begin() as session:
        from server.db.tables import Account
        from server.messages.inbound import store_inbound

        for account_id, text in ((shared, "to all"), (private, "to alice")):
            account = await session.get(Account, account_id)
            await store_inbound(session, account, "+420602111222", text)
    alice_sees = await feed(api, alice)
    bob_sees = await feed(api, bob)
    assert {
        e["data"].get("text") for e in alice_sees["events"] if e["type"] == "message.received"
    } == {"to all", "to alice"}
    assert [e["data"]["text"] for e in bob_sees["events"]] == ["to all"]
    assert all(e["data"]["message"] != mine for e in bob_sees["events"])
    assert any(e["data"]["message"] == mine for e in alice_sees["events"])
    # Bob's cursor passed the events he may not see: he does not read them again.
    assert int(bob_sees["next"]) == int(alice_sees["next"])


async def test_the_long_poll_returns_as_soon_as_an_event_commits(api: Api, server: Server) -> None:
    account = (await api.account())["id"]
    start = await feed(api)
    waiting = asyncio.create_task(feed(api, after=start["next"], wait=20))
    await asyncio.sleep(0.2)  # the poll is parked (nothing to wait for: it must not return)
    assert not waiting.done()
    began = time.monotonic()
    await send(api, account=account)
    got = await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - began < 1.0
    assert got["events"][0]["type"] == "message.queued"
    cursor = got["next"]
    if len(got["events"]) == 1:  # the loopback's `sent` came in a commit of its own
        cursor = (await feed(api, after=cursor, wait=5))["next"]
    empty_start = time.monotonic()
    idle = await feed(api, after=cursor, wait=0.3)
    assert idle["events"] == [] and time.monotonic() - empty_start >= 0.3
    assert idle["next"] == cursor


async def test_a_cursor_past_the_retention_is_410(api: Api, server: Server) -> None:
    account = (await api.account())["id"]
    for _ in range(2):
        await send(api, account=account)
    old = await feed(api, limit=1)
    async with server.sessions.begin() as session:
        await session.execute(
            update(Event).values(time=dt.datetime.now(dt.UTC) - dt.timedelta(days=8))
        )
    deleted = await prune(server.sessions, dt.timedelta(days=7))
    assert deleted == 3  # the newest is kept (its seq must never be handed out again)
    r = await api.get("/api/events", params={"after": old["next"]})
    assert error_of(r) == (410, "cursor_expired") and "retention" in r.json()["detail"]
    left = await feed(api)  # without a cursor: from the oldest event kept
    assert len(left["events"]) == 1


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_another_replica_wakes_the_long_poll(
    api: Api, server: Server, database: Database, settings: Settings
) -> None:
    """Two replicas on one PostgreSQL: an event committed by the second wakes a long poll
    parked on the first (NOTIFY at commit), not its one-second recheck."""
    start = await feed(api)
    other_engine = database.make()
    gateways = Registry({GatewayType.URL: Loopback(outcome=MessageState.SENT)})
    try:
        async with open_server(settings, engine=other_engine, gateways=gateways) as other:
            rung = server.bell.rings
            waiting = asyncio.create_task(feed(api, after=start["next"], wait=20))
            await asyncio.sleep(0.2)
            async with other.sessions.begin() as session:
                from server.events import outbox

                await outbox.write(
                    session,
                    [outbox.event_row("agent.online", dt.datetime.now(dt.UTC), "agent:x", {})],
                )
            got = await asyncio.wait_for(waiting, 0.9)
            assert [e["type"] for e in got["events"]] == ["agent.online"]
            assert server.bell.rings > rung
    finally:
        await other_engine.dispose()
