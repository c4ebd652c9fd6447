"""Control fields through a real web gateway (smsbrana, against its fake service): the
sender reaches smsbrana as sender_phone, a scheduled message goes only at its time, one
that waits for the service past its validity expires."""

from __future__ import annotations

import datetime as dt

import msgspec

from server.gateways.dispatch import Dispatcher, Outcome, Retry
from server.runtime import Server
from tests.server.conftest import Api, error_of
from tests.waiting import eventually

from .conftest import InstantSleep, MemorySink, job
from .fakes.smsbrana import FakeSmsbrana
from .test_smsbrana_server import smsbrana_account


async def test_the_sender_reaches_smsbrana_as_sender_phone(
    api: Api, srv: Server, fake_smsbrana: FakeSmsbrana
) -> None:
    account = await smsbrana_account(api, fake_smsbrana)
    body = {"to": "+420777123456", "text": "Hello", "account": account}
    r = await api.post("/api/messages", json=body | {"sender": "777 000 111"})
    assert r.status_code == 202, r.text
    assert srv.web is not None
    await srv.web.smsbrana.dispatcher.drain()
    [sent] = fake_smsbrana.sent("acme")
    assert sent.params["sender_phone"] == "+420777000111"
    r = await api.post("/api/messages", json=body | {"sender": "ACME"})
    assert error_of(r) == (422, "invalid_sender")


async def test_a_scheduled_message_reaches_smsbrana_at_its_time(
    api: Api, srv: Server, fake_smsbrana: FakeSmsbrana
) -> None:
    account = await smsbrana_account(api, fake_smsbrana)
    at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    body = {"to": "+420777123456", "text": "later", "account": account, "send_at": at.isoformat()}
    r = await api.post("/api/messages", json=body)
    assert r.json()["state"] == "scheduled"
    assert fake_smsbrana.sent("acme") == []
    await eventually(lambda: fake_smsbrana.sent("acme"), 5, "the scheduled SMS at smsbrana")
    assert dt.datetime.now(dt.UTC) >= at


async def test_a_web_message_that_waits_for_the_service_past_its_validity_expires() -> None:
    t0 = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
    now = [t0]
    attempts = 0

    async def send_one(_job) -> Outcome:  # type: ignore[no-untyped-def]
        nonlocal attempts
        attempts += 1
        now[0] += dt.timedelta(minutes=2)  # each try (and its wait) takes two minutes
        return Retry("unreachable", "the service did not answer", outage=True)

    sink = MemorySink()
    d = Dispatcher("t", send_one, sink, sleep=InstantSleep(), wall=lambda: now[0])
    expiring = msgspec.structs.replace(job("m1"), valid_until=t0 + dt.timedelta(minutes=5))
    await d.hand_off([expiring])
    await d.drain()
    assert attempts == 3  # at 0, 2 and 4 minutes; at 6 it is past its validity
    state, reason, detail = sink.state_of("m1")
    assert (state, reason) == ("failed", "expired") and "3 attempts" in (detail or "")
