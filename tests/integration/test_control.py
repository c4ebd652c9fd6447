"""Control over when and to whom, end to end: a virtual modem on a real agent, a real
sms-server (SQLite and PostgreSQL). A scheduled message reaches the modem within 2 s
after its time and not before; a cancelled one never; one that waits past its validity
never, and ends failed/expired; the remaining validity reaches the modem as TP-VP; STOP
from the number blocks the next send to it."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.bridge.live import ADMIN_TOKEN, eventually, fresh_pg_database

from .routing_system import routing_system

TO = "+420777123456"


@pytest.fixture(autouse=True)
def _admin(monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.peer("postgresql"))])
async def db_url(request):
    if request.param == "sqlite":
        yield None
        return
    async with fresh_pg_database("smsbridge_control") as url:
        yield url


def iso(when: dt.datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def at_modem(modem, text: str) -> list[float]:
    """Wall-clock times (time.time()) of the submissions carrying `text`."""
    offset = time.time() - time.monotonic()
    return [s.time + offset for s in modem.submissions if s.submit.text == text]


async def test_scheduled_cancelled_and_expired_messages_at_a_real_modem(tmp_path, db_url):
    async with routing_system(tmp_path, modems=1, db_url=db_url, per_minute="2") as system:
        api, modem = system.server.api, system.modems[0]
        send_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
        body = {"to": TO, "send_at": iso(send_at)}
        scheduled = await api("POST", "/api/messages", json=body | {"text": "scheduled"})
        cancelled = await api("POST", "/api/messages", json=body | {"text": "cancelled"})
        assert scheduled["state"] == cancelled["state"] == "scheduled"
        got = await api("DELETE", f"/api/messages/{cancelled['id']}")
        assert got["state"] == "cancelled"

        await eventually(lambda: at_modem(modem, "scheduled"), 10, "the scheduled SMS")
        [reached] = at_modem(modem, "scheduled")
        assert send_at.timestamp() <= reached <= send_at.timestamp() + 2.0

        # What is left of its validity goes to the network as TP-VP; flash is class 0.
        until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        body = {"to": TO, "text": "fills the budget", "valid_until": iso(until), "flash": True}
        await api("POST", "/api/messages", json=body)
        await eventually(lambda: at_modem(modem, "fills the budget"), 10, "the second SMS")
        [submit] = [s.submit for s in modem.submissions if s.submit.text == "fills the budget"]
        left = (until.timestamp() - at_modem(modem, "fills the budget")[0]) / 60
        assert submit.validity_minutes is not None
        assert left - 5 < submit.validity_minutes <= left  # TP-VP steps are 5 min up to 12 h
        assert submit.message_class == 0
        # The line's minute budget is 2: the next waits — past its ttl.
        late = await api("POST", "/api/messages", json={"to": TO, "text": "late", "ttl": 2})

        async def expired() -> dict:
            m = await system.message(late["id"])
            return m if m["state"] == "failed" else {}

        failed = await eventually(expired, 10, "the waiting SMS to expire")
        assert failed["reason"] == "expired"
        assert at_modem(modem, "late") == [] and at_modem(modem, "cancelled") == []
        assert (await system.message(cancelled["id"]))["state"] == "cancelled"

        # STOP from the number, through the modem and the agent, blocks the next send.
        modem.deliver(TO, "Stop")
        await eventually(lambda: api("GET", "/api/optouts"), 15, "the opt-out recorded")
        r = await system.server.http.post("/api/messages", json={"to": TO, "text": "offer"})
        assert r.status_code == 422 and r.json()["error"] == "opted_out"
        assert TO in r.json()["detail"]


async def test_a_batch_with_bad_items_sends_the_good_ones_to_the_modem(tmp_path, db_url):
    async with routing_system(tmp_path, modems=1, db_url=db_url) as system:
        api, modem = system.server.api, system.modems[0]
        await api("POST", "/api/optouts", json={"number": "+420777000003"})
        items = [
            {"to": "+420777000001", "key": "one"},
            {"to": "12"},
            {"to": "+420777000002", "text": "own text", "priority": "high"},
            {"to": "+420777000003"},
            {"to": "+420777000004", "sender": "ACME"},
        ]
        got = await api(
            "POST", "/api/messages/batch", json={"defaults": {"text": "batch"}, "messages": items}
        )
        assert [r["status"] for r in got["results"]] == [202, 422, 202, 422, 422]
        assert [r["error"] for r in got["results"]][3:] == ["opted_out", "sender_not_supported"]
        ids = [r["id"] for r in got["results"] if r["status"] == 202]

        async def sent() -> bool:
            states = [(await system.message(i))["state"] for i in ids]
            return all(s in ("sent", "delivered") for s in states)

        await eventually(sent, 20, "the batch's good items sent")
        at = sorted((s.submit.recipient, s.submit.text) for s in modem.submissions)
        assert at == [("+420777000001", "batch"), ("+420777000002", "own text")]
