"""The real `sms-server` process and a CRM endpoint that misbehaves in every way: answers
500, closes the connection, answers too late (a timeout), answers slowly, and is down
while the server restarts twice. Every event still arrives, each with a valid signature,
in order per message; a repeat only ever carries an id already seen."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.gateways.fakes.httpserver import DROP
from tests.gateways.fakes.recorder import Recorder
from tests.server.live import sms_server
from tests.waiting import eventually

from .receiver import Receiver

TOKEN = "sbu_webhook-faults-admin"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
SETTINGS = """
webhook_timeout = 0.5
webhook_retry_base = 0.05
webhook_retry_max = 0.4
"""


def misbehave(n: int, _event: dict) -> object:
    return {
        0: 500,
        1: DROP,  # closes without an answer
        2: ("sleep", 1.0, 200),  # past the 0.5 s timeout
        3: ("sleep", 0.2, 200),  # slow but in time
    }.get(n % 6, 200)


async def post_messages(api: httpx.AsyncClient, account: int, n: int, tag: str) -> list[str]:
    ids = []
    for i in range(n):
        r = await api.post(
            "/api/messages",
            json={"to": "+420777123456", "text": f"{tag} {i}", "account": account},
        )
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    return ids


async def test_every_event_arrives_signed_and_in_order_through_faults(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text(SETTINGS)
    args = ("--config", str(config))
    env = {"SMSBRIDGE_ADMIN_TOKEN": TOKEN}
    receiver = Receiver(script=misbehave)
    sms = Recorder()
    ids: list[str] = []
    with sms.running():
        with receiver.running(), sms_server(tmp_path, *args, env=env) as live:
            async with httpx.AsyncClient(base_url=live.url, headers=HEADERS) as api:
                r = await api.post(
                    "/api/webhooks",
                    json={"url": receiver.url, "events": ["message.queued", "message.sent"]},
                )
                assert r.status_code == 201, r.text
                receiver.secret = r.json()["secret"]
                r = await api.post(
                    "/api/accounts",
                    json={
                        "name": "web",
                        "gateway": "url",
                        "config": f"url = {sms.url}/s?to=[PHONE]&t=[MSG]",
                    },
                )
                assert r.status_code == 201, r.text
                account = r.json()["id"]
                ids += await post_messages(api, account, 6, "before")
                await eventually(lambda: len(receiver.arrivals) >= 6, 10, "some attempts")
        # The endpoint is down from here on, across two restarts of the server.
        for round_ in ("first", "second"):
            with sms_server(tmp_path, *args, env=env) as live:
                async with httpx.AsyncClient(base_url=live.url, headers=HEADERS) as api:
                    ids += await post_messages(api, account, 3, round_)
        with receiver.running(), sms_server(tmp_path, *args, env=env) as live:
            async with httpx.AsyncClient(base_url=live.url, headers=HEADERS) as api:
                try:
                    await eventually(
                        lambda: len(receiver.delivered_ids()) >= 2 * len(ids), 30, "every event"
                    )
                except AssertionError:
                    r = await api.get("/api/webhooks/1/deliveries", params={"limit": 1000})
                    stuck = [d for d in r.json()["deliveries"] if d["state"] != "delivered"]
                    raise AssertionError(
                        f"{len(receiver.delivered_ids())} of {2 * len(ids)} delivered; "
                        f"not: {stuck[:3]} {(await api.get('/api/webhooks/1')).json()}"
                    ) from None
                feed = (await api.get("/api/events", params={"limit": 1000})).json()["events"]
    expected = [e for e in feed if e["type"] in ("message.queued", "message.sent")]
    assert len(expected) == 2 * len(ids)
    assert all(a.valid for a in receiver.arrivals), "each request has a valid signature"
    by_id = {e["id"]: e for e in expected}
    assert receiver.delivered_ids() == set(by_id)
    for a in receiver.arrivals:  # a repeat carries the same id and the same event
        assert a.event == by_id[a.webhook_id]
    # In order per message: no attempt of an event after the first attempt of its successor.
    attempts: dict[str, list[str]] = {}
    for a in receiver.arrivals:
        attempts.setdefault(a.event["data"]["message"], []).append(a.event["type"])
    for message_id in ids:
        seen = attempts[message_id]
        last_queued = max(i for i, t in enumerate(seen) if t == "message.queued")
        first_sent = seen.index("message.sent")
        assert last_queued < first_sent, (message_id, seen)
