"""The real `sms-server` process with two workers: the web gateways are wired in, and a
message goes out once whichever worker took it (the other neither resumes nor polls)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx

from tests.server.live import sms_server
from tests.waiting import eventually

from .fakes.recorder import Recorder

TOKEN = "sbu_gateways-live-admin-0123456789"


async def test_two_workers_send_each_message_exactly_once(tmp_path: Path) -> None:
    recorder = Recorder()
    with (
        recorder.running(),
        sms_server(tmp_path, "--workers", "2", env={"SMSBRIDGE_ADMIN_TOKEN": TOKEN}) as live,
    ):
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=live.url, headers=headers) as api:
            r = await api.post(
                "/api/accounts",
                json={
                    "name": "web",
                    "gateway": "url",
                    "config": f"url = {recorder.url}/send?to=[PHONE]&text=[MSG]",
                },
            )
            assert r.status_code == 201, r.text
            account = r.json()["id"]
            texts = [f"message {i}" for i in range(20)]
            ids = []
            for text in texts:
                r = await api.post(
                    "/api/messages", json={"to": "+420777123456", "text": text, "account": account}
                )
                assert r.status_code == 202, r.text
                ids.append(r.json()["id"])
            assert await asyncio.to_thread(recorder.wait_for, 20)
            states: list[str] = []

            async def all_sent() -> bool:
                # The worker records "sent" after the GET has returned to the fake.
                states[:] = [(await api.get(f"/api/messages/{i}")).json()["state"] for i in ids]
                return all(s == "sent" for s in states)

            await eventually(all_sent, 10, "every message recorded sent", interval=0.05)
            assert states == ["sent"] * 20
    got = Counter(dict(r.query)["text"] for r in recorder.requests)
    assert got == Counter(texts)  # every message exactly once
