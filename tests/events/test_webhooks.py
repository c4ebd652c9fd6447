"""Webhooks against a real HTTP endpoint: CRUD and its refusals, Standard Webhooks
signatures checked by the spec's library, retries with the same webhook-id, 410, giving
up, order per message, a slow endpoint beside a fast one, test and redeliver, /metrics."""

from __future__ import annotations

import asyncio

import pytest

from server.runtime import Server
from tests.gateways.fakes.httpserver import DROP
from tests.server.conftest import Api, error_of
from tests.waiting import eventually

from .receiver import Receiver


async def hook(api: Api, receiver: Receiver, **fields: object) -> dict:
    r = await api.post("/api/webhooks", json={"url": receiver.url} | fields)
    assert r.status_code == 201, r.text
    body = r.json()
    receiver.secret = body["secret"]
    return body


async def send(api: Api, account: int, n: int = 1) -> list[str]:
    ids = []
    for i in range(n):
        r = await api.post(
            "/api/messages", json={"to": "+420777123456", "text": f"m{i}", "account": account}
        )
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    return ids


async def test_crud_and_what_is_refused(api: Api, server: Server) -> None:
    r = await api.post("/api/webhooks", json={"url": "https://crm.example/hook"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["secret"].startswith("whsec_") and created["events"] == ["*"]
    listed = (await api.get("/api/webhooks")).json()
    assert [h["url"] for h in listed] == ["https://crm.example/hook"]
    assert "secret" not in listed[0]
    r = await api.patch(
        f"/api/webhooks/{created['id']}",
        json={"events": ["message.delivered", "message.failed"], "description": "CRM"},
    )
    assert r.status_code == 200 and r.json()["events"] == ["message.delivered", "message.failed"]
    for body, code, words in [
        ({"url": "ftp://crm.example/x"}, "invalid_url", "'ftp'"),
        ({"url": "file:///etc/passwd"}, "invalid_url", "'file'"),
        ({"url": "http://smsbridge.test/api/webhooks"}, "invalid_url", "this server itself"),
        (
            {"url": "https://crm.example/h", "events": ["message.sentt"]},
            "unknown_event_type",
            "'message.sentt'",
        ),
        ({"url": "https://crm.example/h", "secret": "plain"}, "invalid_secret", "whsec_"),
    ]:
        r = await api.post("/api/webhooks", json=body)
        assert error_of(r) == (422, code), r.text
        assert words in r.json()["detail"]
    bob = await api.user("bob", "send", "read")
    assert (await api.get("/api/webhooks", bob)).status_code == 403
    assert (await api.delete(f"/api/webhooks/{created['id']}")).status_code == 204
    assert (await api.get(f"/api/webhooks/{created['id']}")).status_code == 404


async def test_events_arrive_signed_in_order_and_every_attempt_is_kept(
    api: Api, server: Server
) -> None:
    receiver = Receiver(script=lambda n, e: 500 if n < 2 else 200)  # two failures first
    with receiver.running():
        created = await hook(api, receiver, events=["message.queued", "message.sent"])
        account = (await api.account())["id"]
        [message] = await send(api, account)
        await eventually(lambda: len(receiver.accepted()) == 2, 10, "both events delivered")
    arrivals = receiver.arrivals
    assert all(a.valid for a in arrivals), "every request verifies with standardwebhooks"
    # The first event failed twice and went again with the same webhook-id.
    assert [a.event["type"] for a in arrivals] == ["message.queued"] * 3 + ["message.sent"]
    assert len({a.webhook_id for a in arrivals[:3]}) == 1
    assert all(a.event["data"]["message"] == message for a in arrivals)
    assert arrivals[0].webhook_id == arrivals[0].event["id"]
    r = await api.get(f"/api/webhooks/{created['id']}/deliveries")
    deliveries = r.json()["deliveries"]
    first = next(d for d in deliveries if d["event_type"] == "message.queued")
    assert first["state"] == "delivered" and first["attempts"] == 3
    assert [a["status_code"] for a in first["history"]] == [500, 500, 200]
    assert first["history"][0]["response"] == "no thanks"


async def test_410_disables_and_active_again_delivers(api: Api, server: Server) -> None:
    gone = {"yes": True}
    receiver = Receiver(script=lambda n, e: 410 if gone["yes"] else 200)
    with receiver.running():
        created = await hook(api, receiver, events=["message.queued"])
        account = (await api.account())["id"]
        await send(api, account)

        async def disabled() -> bool:
            got = (await api.get(f"/api/webhooks/{created['id']}")).json()
            return got["status"] == "disabled" and not got["active"]

        await eventually(disabled, 10, "disabled by 410")
        assert len(receiver.arrivals) == 1
        await send(api, account)
        gone["yes"] = False
        r = await api.patch(f"/api/webhooks/{created['id']}", json={"active": True})
        assert r.json()["status"] == "ok"
        await eventually(lambda: len(receiver.accepted()) == 2, 10, "both after re-enabling")


async def test_giving_up_marks_the_endpoint_failing(api: Api, server: Server) -> None:
    server.webhooks.policy = type(server.webhooks.policy)(0.05, 0.1, 0.5)  # give up after 0.5 s
    receiver = Receiver(script=lambda n, e: DROP)  # closes without an answer
    with receiver.running():
        created = await hook(api, receiver, events=["message.queued"])
        await send(api, (await api.account())["id"])

        async def failing() -> dict | None:
            got = (await api.get(f"/api/webhooks/{created['id']}")).json()
            return got if got["status"] == "failing" else None

        got = await eventually(failing, 10, "marked failing")
    assert "gave up" in got["status_detail"] and got["active"]
    [d] = (await api.get(f"/api/webhooks/{created['id']}/deliveries")).json()["deliveries"]
    assert d["state"] == "failed" and d["attempts"] >= 3
    assert all(a["status_code"] is None for a in d["history"])
    metrics = (await api.get("/metrics")).text
    assert 'smsbridge_webhooks{status="failing"} 1.0' in metrics
    assert 'smsbridge_webhook_deliveries_total{result="gave_up"} 1.0' in metrics


async def test_a_slow_endpoint_does_not_hold_up_a_fast_one(api: Api, server: Server) -> None:
    slow = Receiver(script=lambda n, e: ("sleep", 0.8, 200))
    fast = Receiver()
    with slow.running(), fast.running():
        await hook(api, slow, events=["message.queued"])
        await hook(api, fast, events=["message.queued"])
        account = (await api.account())["id"]
        await send(api, account, 20)
        await eventually(lambda: len(fast.accepted()) == 20, 10, "fast endpoint got all")
        # The slow one takes 0.8 s a request, 16 at a time: it needs 1.6 s at least, and
        # the fast one did not wait for it.
        assert len(slow.accepted()) < 20
        # A bound for a loaded machine, where a timed-out attempt waits for its retry.
        await eventually(lambda: len(slow.accepted()) == 20, 30, "slow endpoint got all")


async def test_order_per_message_survives_random_failures(api: Api, server: Server) -> None:
    import random

    rng = random.Random(7)
    receiver = Receiver(script=lambda n, e: 503 if rng.random() < 0.4 else 200)
    with receiver.running():
        await hook(api, receiver, events=["message.queued", "message.sent"])
        account = (await api.account())["id"]
        ids = await send(api, account, 15)
        await eventually(lambda: len(receiver.delivered_ids()) == 30, 20, "all 30 events")
    firsts: dict[str, list[str]] = {}
    seen: set[str] = set()
    for a in receiver.accepted():
        assert a.valid
        if a.webhook_id not in seen:
            seen.add(a.webhook_id)
            firsts.setdefault(a.event["data"]["message"], []).append(a.event["type"])
    assert set(firsts) == set(ids)
    assert all(types == ["message.queued", "message.sent"] for types in firsts.values())


async def test_test_event_and_redeliver(api: Api, server: Server) -> None:
    receiver = Receiver()
    with receiver.running():
        created = await hook(api, receiver)
        r = await api.post(f"/api/webhooks/{created['id']}/test")
        assert r.status_code == 202, r.text
        await eventually(lambda: len(receiver.accepted()) == 1, 10, "test event")
        [test] = receiver.accepted()
        assert test.valid and test.event["type"] == "webhook.test"
        r = await api.post(
            f"/api/webhooks/{created['id']}/deliveries/{r.json()['delivery']}/redeliver"
        )
        assert r.status_code == 202, r.text
        await eventually(lambda: len(receiver.accepted()) == 2, 10, "redelivered")
        again = receiver.accepted()[1]
        assert again.valid and again.webhook_id == test.webhook_id
        r = await api.post(f"/api/webhooks/{created['id']}/deliveries/999999/redeliver")
        assert error_of(r) == (404, "not_found")


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_two_replicas_attempt_each_delivery_once(
    api: Api, server: Server, database, settings
) -> None:
    """Two processes' deliverers on one PostgreSQL: every event reaches the endpoint
    exactly once (leases with SKIP LOCKED), in order per message."""
    from server.gateways.base import Registry
    from server.gateways.loopback import Loopback
    from server.runtime import open_server
    from sms.model import GatewayType, MessageState

    receiver = Receiver()
    other_engine = database.make()
    gateways = Registry({GatewayType.URL: Loopback(outcome=MessageState.SENT)})
    try:
        with receiver.running():
            async with open_server(settings, engine=other_engine, gateways=gateways):
                await hook(api, receiver, events=["message.queued", "message.sent"])
                account = (await api.account())["id"]
                await asyncio.gather(*(send(api, account, 10) for _ in range(3)))
                await eventually(lambda: len(receiver.arrivals) >= 60, 20, "60 events")
                await asyncio.sleep(0.3)  # room for a duplicate to show up, if there were one
    finally:
        await other_engine.dispose()
    ids = [a.webhook_id for a in receiver.arrivals]
    assert len(ids) == len(set(ids)) == 60
