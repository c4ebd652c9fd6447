"""POST /api/messages' control fields (send_at, valid_until/ttl, priority, sender, flash),
the scheduler that turns scheduled rows queued, DELETE (cancel), and GET's filters/CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import update

from server.api.messages import send
from server.api.schemas import SendIn
from server.db.tables import Account, Message
from server.gateways.base import Registry
from server.gateways.loopback import Loopback
from server.runtime import Server, open_server
from server.tokens import hash_token
from sms.model import GatewayType
from tests.server.conftest import ADMIN_TOKEN, Api, error_of
from tests.waiting import eventually

TO = "+420774884138"


def iso(when: dt.datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def soon(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


async def url_account(api: Api, config: str = "") -> int:
    text = "url = https://sms.example/send?to=[PHONE]&text=[MSG]\n" + config
    return int((await api.account(config=text))["id"])


async def test_a_scheduled_message_is_a_row_until_its_time_then_goes(
    api: Api, loopback: Loopback
) -> None:
    account = await url_account(api)
    at = soon(0.8)
    r = await api.post(
        "/api/messages", json={"to": TO, "text": "later", "account": account, "send_at": iso(at)}
    )
    assert r.status_code == 202, r.text
    assert r.json()["state"] == "scheduled"
    mid = r.json()["id"]
    got = (await api.get(f"/api/messages/{mid}")).json()
    assert got["state"] == "scheduled" and got["detail"].startswith("scheduled for ")
    assert dt.datetime.fromisoformat(got["send_at"]) == at
    assert not loopback.jobs  # nothing handed before its time

    async def sent() -> bool:
        return (await api.get(f"/api/messages/{mid}")).json()["state"] == "sent"

    await eventually(sent, 5, "the scheduled message sent")
    assert dt.datetime.now(dt.UTC) >= at
    assert [j.id for j in loopback.jobs] == [mid]


async def test_send_at_needs_a_zone_and_at_most_a_year_a_past_one_is_now(api: Api) -> None:
    account = await url_account(api)
    body = {"to": TO, "text": "x", "account": account}
    r = await api.post("/api/messages", json=body | {"send_at": "2026-12-24T18:00:00"})
    assert error_of(r) == (400, "invalid_request")
    assert "no time zone" in r.json()["detail"]
    far = iso(soon(400 * 86400))
    assert error_of(await api.post("/api/messages", json=body | {"send_at": far})) == (
        422,
        "send_at_too_far",
    )
    past = await api.post("/api/messages", json=body | {"send_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 202 and past.json()["state"] in ("queued", "sent")
    both = body | {"valid_until": iso(soon(60)), "ttl": 60}
    assert error_of(await api.post("/api/messages", json=both)) == (400, "invalid_request")


async def test_a_scheduled_message_past_its_validity_expires_unsent(
    api: Api, loopback: Loopback, server: Server
) -> None:
    account = await url_account(api)
    body = {"to": TO, "text": "code 1234", "account": account}
    r = await api.post("/api/messages", json=body | {"send_at": iso(soon(3600)), "ttl": 300})
    mid = r.json()["id"]
    got = (await api.get(f"/api/messages/{mid}")).json()
    send_at = dt.datetime.fromisoformat(got["send_at"])
    assert dt.datetime.fromisoformat(got["valid_until"]) - send_at == dt.timedelta(seconds=300)
    r = await api.post("/api/messages", json=body | {"send_at": iso(soon(1.0)), "ttl": 1})
    # ttl counts from send_at; move the row's validity into the past to see it expire.
    async with server.sessions.begin() as session:
        await session.execute(
            update(Message)
            .where(Message.id == r.json()["id"])
            .values(valid_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert server.scheduler is not None
    server.scheduler.want()

    async def expired() -> dict:
        m = (await api.get(f"/api/messages/{r.json()['id']}")).json()
        return m if m["state"] == "failed" else {}

    got = await eventually(expired, 5, "the message expired")
    assert got["reason"] == "expired" and got["sent_at"] is None
    assert r.json()["id"] not in [j.id for j in loopback.jobs]


async def test_quiet_hours_hold_a_web_gateways_message_and_say_until_when(api: Api) -> None:
    now = dt.datetime.now(dt.UTC)
    start = (now - dt.timedelta(hours=1)).strftime("%H:%M")
    end = (now + dt.timedelta(hours=2)).strftime("%H:%M")
    account = await url_account(api, f"quiet_hours = {start}-{end}\ntime_zone = UTC")
    r = await api.post("/api/messages", json={"to": TO, "text": "night", "account": account})
    assert r.json()["state"] == "scheduled"
    got = (await api.get(f"/api/messages/{r.json()['id']}")).json()
    assert got["detail"] == f"waiting: quiet hours until {end} UTC"
    high = await api.post(
        "/api/messages", json={"to": TO, "text": "code", "account": account, "priority": "high"}
    )
    assert high.json()["state"] == "scheduled"  # quiet_hours_high is not `send`


async def test_cancel_a_scheduled_message_and_409_for_one_already_handed(
    api: Api, loopback: Loopback
) -> None:
    account = await url_account(api)
    body = {"to": TO, "text": "x", "account": account}
    later = await api.post("/api/messages", json=body | {"send_at": iso(soon(3600))})
    mid = later.json()["id"]
    r = await api.delete(f"/api/messages/{mid}")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    got = (await api.get(f"/api/messages/{mid}")).json()
    assert got["state"] == "cancelled" and got["detail"].startswith("cancelled by admin")
    assert error_of(await api.delete(f"/api/messages/{mid}")) == (409, "not_cancellable")
    now = await api.post("/api/messages", json=body)
    r = await api.delete(f"/api/messages/{now.json()['id']}")
    assert error_of(r) == (409, "not_cancellable")
    assert "already" in r.json()["detail"]
    assert error_of(await api.delete("/api/messages/nope")) == (404, "not_found")
    assert mid not in [j.id for j in loopback.jobs]


async def test_sender_priority_and_flash_are_checked_against_the_gateway(api: Api) -> None:
    account = await url_account(api)
    body = {"to": TO, "text": "x", "account": account}
    r = await api.post("/api/messages", json=body | {"sender": "ACME"})
    assert error_of(r) == (422, "sender_not_supported")
    assert "gateway url cannot choose the sender" in r.json()["detail"]
    assert error_of(await api.post("/api/messages", json=body | {"flash": True})) == (
        422,
        "flash_not_supported",
    )
    assert error_of(await api.post("/api/messages", json=body | {"priority": "urgent"}))[0] == 400
    r = await api.post("/api/messages", json=body | {"priority": "bulk"})
    assert (await api.get(f"/api/messages/{r.json()['id']}")).json()["priority"] == "bulk"


async def test_list_filters_by_number_text_state_time_and_exports_csv(api: Api) -> None:
    account = await url_account(api)
    for to, text in ((TO, "Ahoj Petře"), ("+420777000111", "Dobrý den"), (TO, "later")):
        r = await api.post("/api/messages", json={"to": to, "text": text, "account": account})
        assert r.status_code == 202
    by_to = (await api.get("/api/messages", params={"to": "774884138"})).json()["messages"]
    assert {m["text"] for m in by_to} == {"Ahoj Petře", "later"}
    by_q = (await api.get("/api/messages", params={"q": "DOBR"})).json()["messages"]
    assert [m["to"] for m in by_q] == ["+420777000111"]
    assert (await api.get("/api/messages", params={"q": "100%"})).json()["messages"] == []
    gone = (await api.get("/api/messages", params={"until": "2020-01-01T00:00:00Z"})).json()
    assert gone["messages"] == []
    r = await api.get("/api/messages", params={"to": TO, "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(row["text"] for row in rows) == ["Ahoj Petře", "later"]
    assert {row["to"] for row in rows} == {TO}
    assert error_of(await api.get("/api/messages", params={"to": "abc!"}))[0] == 422


async def test_scheduled_messages_survive_a_restart(settings, engine, loopback: Loopback) -> None:
    """A row, not a timer: the server stops before its time, the next start sends it."""
    gateways = Registry({GatewayType.URL: loopback})
    async with open_server(
        settings, engine=engine, gateways=gateways, admin_token=ADMIN_TOKEN
    ) as s:
        caller = await s.callers.lookup(hash_token(ADMIN_TOKEN))
        assert caller is not None
        account = await s.accounts.default_for(caller.id)
        assert account is not None
        async with s.sessions.begin() as session:
            row = await session.get(Account, account.id)
            assert row is not None
            row.gateway, row.config = "url", "url = https://sms.example/send?to=[PHONE]&text=[MSG]"
        s.accounts.invalidate()
        at = soon(1.5)
        body = SendIn(to=TO, text="after the restart", send_at=iso(at))
        accepted = await send(s, caller, body)
        assert accepted.state.value == "scheduled"
    assert loopback.jobs == []  # the server stopped before its time
    async with open_server(
        settings, engine=engine, gateways=gateways, admin_token=ADMIN_TOKEN
    ) as s:
        loopback.attach(s.states)
        await eventually(lambda: loopback.jobs, 10, "the scheduled message after the restart")
        assert [j.id for j in loopback.jobs] == [accepted.id]
        assert dt.datetime.now(dt.UTC) >= at
