"""Control fields through a real web gateway (smsbrana, against its fake service): the
sender reaches smsbrana as sender_phone, a scheduled message goes only at its time."""

from __future__ import annotations

import datetime as dt

from server.runtime import Server
from tests.server.conftest import Api, error_of
from tests.waiting import eventually

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
