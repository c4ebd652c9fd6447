"""One agent connection's bounds: the WebSocket library refuses a frame over the protocol's
bound before reading it whole (a real `sms-server` process), and the frame budget that
paces a flood is a plain token bucket."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import websockets

from bridge import protocol as p
from server.ratelimit import Bucket, Limiter

from .live import sms_server


async def test_a_frame_over_the_protocols_bound_closes_the_connection(tmp_path: Path) -> None:
    with sms_server(tmp_path) as live:
        headers = {"Authorization": f"Bearer {live.token}"}
        r = httpx.post(f"{live.url}/api/agents", headers=headers, json={"name": "office-1"})
        token = r.json()["token"]
        url = live.url.replace("http://", "ws://") + "/agent"
        async with websockets.connect(
            url, additional_headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            await ws.send(p.encode(p.Hello(agent="office-1")).decode())
            await ws.recv()  # welcome
            await ws.send("x" * (p.MAX_FRAME_BYTES + 1))
            # (Before the bound, the server read it, answered an error and went on.)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(10):
                    while True:
                        await ws.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009  # message too big
        assert httpx.get(f"{live.url}/healthz").status_code == 200


def test_a_bucket_gives_its_burst_then_paces_at_its_rate() -> None:
    bucket = Bucket(rate=10, burst=3)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.1)
    assert bucket.take(0.0) == pytest.approx(0.2)
    assert bucket.take(1.0) == 0.0  # refilled meanwhile


def test_a_limiter_refuses_one_key_and_not_another() -> None:
    limiter = Limiter(rate=1, burst=2)
    assert [limiter.allow("a", 0.0) for _ in range(3)] == [True, True, False]
    assert limiter.allow("b", 0.0)
    assert not limiter.allow("a", 0.5)
    assert limiter.allow("a", 1.0)
