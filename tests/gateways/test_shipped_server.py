"""The web gateways' background work in `sms-server` started as the README starts it (one
process, default options; only the poll interval shortened through --config): the default
smsbrana account polls its inbox on the interval, and a message left `queued` by a stop is
sent after the restart."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.server.live import sms_server
from tests.waiting import eventually

from .fakes.smsbrana import FakeSmsbrana

TOKEN = "sbu_shipped-server-admin"
PASSWORD = "s3cret-Pa55"
INTERVAL = 1.0


async def message(api: httpx.AsyncClient, message_id: str) -> dict[str, object]:
    r = await api.get(f"/api/messages/{message_id}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_default_server_polls_the_inbox_and_resumes_after_a_restart(
    tmp_path: Path,
) -> None:
    fake = FakeSmsbrana()
    fake.add_account("acme", PASSWORD)
    config = tmp_path / "server.toml"
    config.write_text(f"poll_interval = {INTERVAL}\n")
    args = ("--config", str(config))
    env = {"SMSBRIDGE_ADMIN_TOKEN": TOKEN}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with fake.running():
        with sms_server(tmp_path, *args, env=env) as live:
            async with httpx.AsyncClient(base_url=live.url, headers=headers) as api:
                sent_id, queued_id = await first_run(api, fake)
        fake.unavailable = 0  # smsbrana is back while the server is stopped
        with sms_server(tmp_path, *args, env=env) as live:
            async with httpx.AsyncClient(base_url=live.url, headers=headers) as api:
                await eventually(
                    lambda: is_state(api, queued_id, "sent"), 10, "queued message resumed"
                )
                assert (await message(api, sent_id))["state"] == "delivered"
    assert [s.message for s in fake.sent("acme")] == ["Ahoj", "Later"]  # each once


async def is_state(api: httpx.AsyncClient, message_id: str, wanted: str) -> bool:
    return (await message(api, message_id))["state"] == wanted


async def first_run(api: httpx.AsyncClient, fake: FakeSmsbrana) -> tuple[str, str]:
    [account] = (await api.get("/api/accounts")).json()
    assert account["gateway"] == "smsbrana" and account["default"]
    r = await api.patch(
        f"/api/accounts/{account['id']}",
        json={
            "config": f"login = acme\npassword = {PASSWORD}\nurl = {fake.url}",
            "poll_incoming": True,
        },
    )
    assert r.status_code == 200, r.text
    r = await api.post("/api/messages", json={"to": "+420777123456", "text": "Ahoj"})
    assert r.status_code == 202, r.text
    sent_id = r.json()["id"]
    await eventually(lambda: is_state(api, sent_id, "sent"), 10, "message sent")
    fake.inject_incoming("acme", "+420602111222", "Ano, prijdu")
    # The fake queued a delivery report when it took the message; both wait in its inbox
    # until the server polls: on the interval, as nothing here triggers a poll.
    started = time.monotonic()
    await eventually(lambda: is_state(api, sent_id, "delivered"), 3 * INTERVAL + 5, "report")

    async def replied() -> bool:
        r = await api.get("/api/messages?direction=in")
        return [m["text"] for m in r.json()["messages"]] == ["Ano, prijdu"]

    await eventually(replied, 3 * INTERVAL + 5, "reply stored")
    # One interval, the 2 s gap the poller keeps between rounds, and the round itself.
    assert time.monotonic() - started < INTERVAL + 4

    fake.unavailable = 10_000  # smsbrana is down: the next message stays queued
    r = await api.post("/api/messages", json={"to": "+420777123456", "text": "Later"})
    assert r.status_code == 202, r.text
    queued_id = r.json()["id"]
    await eventually(lambda: fake.unavailable < 10_000, 10, "a send attempted")
    assert (await message(api, queued_id))["state"] == "queued"
    return sent_id, queued_id
