"""smsbrana inside the running server, on a real database: send through the API, delivery
reports, incoming SMS with their visibility, the push URL, credit, the 459-character limit."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from server.app import create_app
from server.gateways.smsbrana import inbox
from server.runtime import Server
from server.settings import Settings
from tests.server.conftest import ADMIN_TOKEN, Api

from .fakes.smsbrana import FakeSmsbrana

PASSWORD = "s3cret-Pa55"


async def smsbrana_account(api: Api, fake: FakeSmsbrana, **fields: object) -> int:
    config = f"login = acme\npassword = {PASSWORD}\nurl = {fake.url}"
    account = await api.account(gateway="smsbrana", config=config, **fields)
    return int(account["id"])  # type: ignore[call-overload]


async def send(api: Api, srv: Server, account: int, token: str = ADMIN_TOKEN, **body: str) -> str:
    r = await api.post(
        "/api/messages",
        token,
        json={"to": "+420777123456", "text": "Hello", "account": account} | body,
    )
    assert r.status_code == 202, r.text
    assert srv.web is not None
    await srv.web.smsbrana.dispatcher.drain()
    return str(r.json()["id"])


async def state(api: Api, message_id: str) -> dict[str, object]:
    r = await api.get(f"/api/messages/{message_id}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_sent_then_a_delivery_report_makes_it_delivered(api, srv, fake_smsbrana) -> None:
    account = await smsbrana_account(api, fake_smsbrana, poll_incoming=True)
    message_id = await send(api, srv, account)
    assert (await state(api, message_id))["state"] == "sent"
    [sent] = fake_smsbrana.sent("acme")
    assert sent.user_id == message_id

    results = await srv.web.smsbrana_inbox.poll_all()
    assert results[account].reports == 1 and results[account].deleted
    after = await state(api, message_id)
    assert after["state"] == "delivered" and after["delivered_at"]
    assert fake_smsbrana.accounts["acme"].reports == []  # deleted only after applying


async def test_an_undeliverable_report_fails_the_message(api, srv, fake_smsbrana) -> None:
    fake_smsbrana.report_status = 3
    account = await smsbrana_account(api, fake_smsbrana, poll_incoming=True)
    message_id = await send(api, srv, account)
    await srv.web.smsbrana_inbox.poll_all()
    got = await state(api, message_id)
    assert (got["state"], got["reason"]) == ("failed", "undeliverable")


async def test_a_non_final_report_leaves_the_message_sent(api, srv, fake_smsbrana) -> None:
    fake_smsbrana.report_status = 2
    account = await smsbrana_account(api, fake_smsbrana, poll_incoming=True)
    message_id = await send(api, srv, account)
    await srv.web.smsbrana_inbox.poll_all()
    assert (await state(api, message_id))["state"] == "sent"


async def test_a_final_error_reaches_the_api_with_its_reason(api, srv, fake_smsbrana) -> None:
    fake_smsbrana.set_credit("acme", 0)
    account = await smsbrana_account(api, fake_smsbrana)
    message_id = await send(api, srv, account)
    got = await state(api, message_id)
    assert (got["state"], got["reason"]) == ("failed", "smsbrana_no_credit")
    assert "top it up" in str(got["detail"])


async def incoming(api: Api, token: str) -> list[dict[str, object]]:
    r = await api.get("/api/messages?direction=in", token)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


@pytest.mark.parametrize(("sharing", "bob_sees"), [("private", False), ("all", True)])
async def test_incoming_sms_is_stored_once_with_the_accounts_visibility(
    api, srv, fake_smsbrana, sharing, bob_sees
) -> None:
    alice = await api.user("alice", "send", "read")
    bob = await api.user("bob", "send", "read")
    account = await smsbrana_account(
        api, fake_smsbrana, poll_incoming=True, owner="alice", sharing=sharing
    )
    fake_smsbrana.inject_incoming("acme", "+420602111222", "Ano, přijdu", when="20251126T101500")
    await srv.web.smsbrana_inbox.poll_all()
    # The same SMS again (the service may repeat an item that was not deleted yet).
    fake_smsbrana.inject_incoming("acme", "+420602111222", "Ano, přijdu", when="20251126T101500")
    await srv.web.smsbrana_inbox.poll_all()

    [got] = await incoming(api, alice)
    assert (got["from"], got["text"], got["state"], got["account"]) == (
        "+420602111222",
        "Ano, přijdu",
        "received",
        account,
    )
    assert got["created_at"].startswith("2025-11-26T09:15:00")  # 10:15 Prague = 09:15 UTC
    assert len(await incoming(api, bob)) == (1 if bob_sees else 0)
    assert fake_smsbrana.accounts["acme"].incoming == []


async def test_a_reply_goes_to_the_user_who_last_wrote_to_that_number(
    api, srv, fake_smsbrana
) -> None:
    alice = await api.user("alice", "send", "read")
    bob = await api.user("bob", "send", "read")
    account = await smsbrana_account(
        api, fake_smsbrana, poll_incoming=True, owner=None, sharing="reply-to-sender"
    )
    await send(api, srv, account, token=bob, to="+420602111222", text="Přijdete?")
    fake_smsbrana.inject_incoming("acme", "+420602111222", "Ano")
    fake_smsbrana.inject_incoming("acme", "+420603999888", "Kdo jste?")
    await srv.web.smsbrana_inbox.poll_all()
    assert [m["text"] for m in await incoming(api, bob)] == ["Ano"]
    assert await incoming(api, alice) == []  # no owner: the stranger's SMS is for admins
    assert len(await incoming(api, ADMIN_TOKEN)) == 2


async def test_accounts_that_do_not_poll_are_left_alone(api, srv, fake_smsbrana) -> None:
    await smsbrana_account(api, fake_smsbrana, poll_incoming=False)
    fake_smsbrana.inject_incoming("acme", "+420602111222", "hi")
    assert await srv.web.smsbrana_inbox.poll_all() == {}
    assert len(fake_smsbrana.accounts["acme"].incoming) == 1


async def test_the_push_url_triggers_a_poll_without_a_token(api, srv, fake_smsbrana) -> None:
    config = f"login = acme\npassword = {PASSWORD}\nurl = {fake_smsbrana.url}\npush = true"
    account = (await api.account(gateway="smsbrana", config=config, poll_incoming=True))["id"]
    fake_smsbrana.inject_incoming("acme", "+420602111222", "pushed")
    poller = srv.web.smsbrana_inbox
    poller.round_done.clear()
    r = await api.post(f"/api/gateways/smsbrana/push?account={account}", token=None)
    assert r.status_code == 202, r.text
    await asyncio.wait_for(poller.round_done.wait(), 10)
    [got] = await incoming(api, ADMIN_TOKEN)
    assert got["text"] == "pushed"


async def test_credit_is_shown_for_the_account(api, srv, fake_smsbrana) -> None:
    account = await smsbrana_account(api, fake_smsbrana)
    fake_smsbrana.set_credit("acme", 1523.32)
    r = await api.get(f"/api/accounts/{account}/credit")
    assert r.status_code == 200, r.text
    assert r.json() == {"account": account, "credit": 1523.32, "currency": "CZK", "detail": None}
    r = await api.post(f"/api/accounts/{account}/test")
    assert r.json()["ok"] is True and "1523.32" in r.json()["detail"]


async def test_credit_with_a_wrong_password_says_so(api, srv, fake_smsbrana) -> None:
    config = f"login = acme\npassword = wrong\nurl = {fake_smsbrana.url}"
    account = (await api.account(gateway="smsbrana", config=config))["id"]
    r = await api.get(f"/api/accounts/{account}/credit")
    assert r.status_code == 200 and r.json()["credit"] is None
    assert "password" in r.json()["detail"] and "wrong" not in r.json()["detail"]
    r = await api.post(f"/api/accounts/{account}/test")
    assert r.status_code == 200 and r.json()["ok"] is False


async def test_credit_of_a_url_account_is_not_supported(api, srv) -> None:
    account = (await api.account())["id"]
    r = await api.get(f"/api/accounts/{account}/credit")
    assert r.status_code == 422 and r.json()["error"] == "not_supported"


async def test_the_459_character_limit_is_checked_at_post(api, srv, fake_smsbrana) -> None:
    account = await smsbrana_account(api, fake_smsbrana)
    r = await api.post(
        "/api/messages", json={"to": "+420777123456", "text": "x" * 460, "account": account}
    )
    assert r.status_code == 422 and r.json()["error"] == "message_too_long"
    # Extension characters count double: 230 x '€' = 460 septets.
    r = await api.post(
        "/api/messages", json={"to": "+420777123456", "text": "€" * 230, "account": account}
    )
    assert r.status_code == 422
    ok = await send(api, srv, account, text="x" * 459)
    assert (await state(api, ok))["state"] == "sent"
    assert fake_smsbrana.sent("acme")[0].parts == 3


async def test_queued_messages_are_resumed_at_start(api, srv, fake_smsbrana) -> None:
    account = await smsbrana_account(api, fake_smsbrana)
    srv.web.smsbrana.dispatcher._send_one = lambda job: asyncio.Future()  # hangs: stays queued
    r = await api.post(
        "/api/messages", json={"to": "+420777123456", "text": "later", "account": account}
    )
    message_id = r.json()["id"]
    await srv.web.smsbrana.dispatcher.close()
    assert (await state(api, message_id))["state"] == "queued"
    srv.web.smsbrana.dispatcher._send_one = srv.web.smsbrana.send_one
    assert await srv.web.resume(srv.gateways) == 1
    await srv.web.smsbrana.dispatcher.drain()
    assert (await state(api, message_id))["state"] == "sent"


async def test_an_inbox_poll_that_fails_says_why_and_deletes_nothing(
    api, srv, fake_smsbrana
) -> None:
    config = f"login = acme\npassword = wrong\nurl = {fake_smsbrana.url}"
    bad = (await api.account(gateway="smsbrana", config=config, poll_incoming=True))["id"]
    fake_smsbrana.inject_incoming("acme", "+420602111222", "kept")
    results = await srv.web.smsbrana_inbox.poll_all()
    assert "password" in results[bad] and "wrong" not in results[bad]
    assert len(fake_smsbrana.accounts["acme"].incoming) == 1
    fake_smsbrana.unavailable = 10
    good = await smsbrana_account(api, fake_smsbrana, poll_incoming=True)
    results = await srv.web.smsbrana_inbox.poll_all()
    assert "did not answer" in results[good] and "HTTP 503" in results[good]
    assert len(fake_smsbrana.accounts["acme"].incoming) == 1


async def test_a_fresh_report_for_an_unknown_sms_holds_the_delete_back(
    api, srv, fake_smsbrana
) -> None:
    account = await smsbrana_account(api, fake_smsbrana, poll_incoming=True)
    fake_smsbrana.add_report("acme", 999_999, 1)  # its send's answer is not recorded yet
    fake_smsbrana.inject_incoming("acme", "+420602111222", "hello")
    first = (await srv.web.smsbrana_inbox.poll_all())[account]
    assert first.held_back and not first.deleted and first.stored == 1
    assert len(fake_smsbrana.accounts["acme"].reports) == 1  # kept for the next poll
    # Minutes later the report is no longer fresh: it is given up and deleted.
    later = await inbox.poll_once(
        srv.web.smsbrana.client(
            {"login": "acme", "url": fake_smsbrana.url}, {"password": PASSWORD}
        ),
        srv.web.records,
        account,
        now=fake_smsbrana.now() + dt.timedelta(minutes=3),
    )
    assert later.deleted and later.stored == 0
    assert fake_smsbrana.accounts["acme"].reports == []


async def test_a_push_is_taken_only_for_an_account_that_uses_push(api, srv, fake_smsbrana) -> None:
    polls = await smsbrana_account(api, fake_smsbrana, poll_incoming=True)  # no push = true
    config = f"login = acme\npassword = {PASSWORD}\nurl = {fake_smsbrana.url}\npush = true"
    silent = (await api.account(gateway="smsbrana", config=config, poll_incoming=False))["id"]
    answers = set()
    for target in ("", f"?account={polls}", f"?account={silent}", "?account=424242"):
        r = await api.post(f"/api/gateways/smsbrana/push{target}", token=None)
        answers.add((r.status_code, r.json()["error"]))
    assert answers == {(404, "not_found")}  # one answer, whatever the reason


async def test_pushes_are_limited_per_client_and_per_account(api, srv, fake_smsbrana) -> None:
    config = f"login = acme\npassword = {PASSWORD}\nurl = {fake_smsbrana.url}\npush = true"
    account = (await api.account(gateway="smsbrana", config=config, poll_incoming=True))["id"]
    url = f"/api/gateways/smsbrana/push?account={account}"
    codes = [(await api.post(url, token=None)).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]  # the account's burst is 3
    r = await api.post(url, token=None)
    assert r.status_code == 429 and "for account" in r.json()["detail"]

    # Another address is limited on its own: after its burst, before any database work.
    app = create_app(Settings(), srv)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://smsbridge.test") as far:
        codes = [(await far.post("/api/gateways/smsbrana/push")).status_code for _ in range(6)]
    assert codes == [404] * 5 + [429]
