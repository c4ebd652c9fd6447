"""Protocol fuzzing over a real WebSocket: random and mutated frames from an agent with a
valid token never crash the server; it answers with errors, cuts the connection after
too many, and goes on serving everyone else."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

import websockets

from bridge import protocol as p

from .test_bridge_live import setup_account

NOW = datetime(2026, 11, 26, tzinfo=UTC)
VALID = [
    p.Hello(agent="office-1"),
    p.JobAck(id="x"),
    p.Sent(event_id=1, job_id="nope", at=NOW),
    p.Received(event_id=2, line="GSM1", sender="+1", text="t", at=NOW, received_at=NOW),
    p.LineStatus(line="GSM1", up=True, at=NOW),
    p.EventAck(event_ids=[1]),
]


def frames(rng: random.Random, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.3:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))))
        else:
            raw = bytearray(p.encode(rng.choice(VALID)))
            for _ in range(rng.randrange(1, 4)):
                raw[rng.randrange(len(raw))] = rng.randrange(32, 127)
            out.append(bytes(raw))
    return out


async def test_random_frames_never_crash_the_server(server, caplog):
    token, _ = await setup_account(server)
    rng = random.Random(7)
    sent = 0
    for _ in range(30):  # the server cuts a garbage-sending agent off; come back
        async with websockets.connect(
            server.ws_url, additional_headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            await ws.send(p.encode(p.Hello(agent="office-1")).decode())
            try:
                for frame in frames(rng, 20):
                    await ws.send(frame.decode("utf-8", errors="replace"))
                    sent += 1
                await ws.close()
            except websockets.ConnectionClosed:
                pass
    assert sent >= 200
    crashes = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not crashes, [r.getMessage() for r in crashes][:3]
    assert (await server.http.get("/healthz")).status_code == 200
    (agent,) = await server.api("GET", "/api/agents")
    assert agent["name"] == "office-1"
