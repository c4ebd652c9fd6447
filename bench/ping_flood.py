"""API latency while one agent floods the server with pings (issue #19, item 11).

    python bench/ping_flood.py                 # 100,000 pings
    python bench/ping_flood.py --pings 20000

Runs a real `sms-server` (SQLite, its own process), registers an agent, and while that
agent's WebSocket sends pings as fast as it can, another client asks GET /api/agents
(an authenticated API call that reads the database) one request after another. Prints
the API's p50, p99 and worst latency during the flood and without it, and how many
pings the server answered while the flood lasted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import websockets  # noqa: E402

from bridge import protocol as p  # noqa: E402
from tests.server.live import sms_server  # noqa: E402

ADMIN = "sbu_bench-ping-flood-admin-token-0123456789"


async def latencies(api: httpx.AsyncClient, stop: asyncio.Event) -> list[float]:
    out = []
    while not stop.is_set():
        started = time.perf_counter()
        r = await api.get("/api/agents")
        r.raise_for_status()
        out.append(time.perf_counter() - started)
    return out


def summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<14} no request finished"
    worst_at = values.index(max(values)) + 1  # which request of the run was the slowest
    ms = sorted(v * 1000 for v in values)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (
        f"{name:<14} requests {len(ms):>6}  p50 {statistics.median(ms):7.1f} ms  "
        f"p99 {p99:7.1f} ms  max {ms[-1]:7.1f} ms (request {worst_at})"
    )


async def run(pings: int) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        sms_server(Path(tmp), env={"SMSBRIDGE_ADMIN_TOKEN": ADMIN}) as live,
    ):
        api = httpx.AsyncClient(
            base_url=live.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60
        )
        token = (await api.post("/api/agents", json={"name": "flood"})).json()["token"]

        stop = asyncio.Event()
        quiet = asyncio.create_task(latencies(api, stop))
        await asyncio.sleep(3)
        stop.set()
        baseline = await quiet

        # The flood comes from another process: a sending loop here would also hold up
        # this process's own API client and the figures would measure that.
        flooder = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--flood",
            live.url.replace("http://", "ws://") + "/agent",
            token,
            str(pings),
            stdout=asyncio.subprocess.PIPE,
        )
        stop = asyncio.Event()
        loaded = asyncio.create_task(latencies(api, stop))
        out, _ = await flooder.communicate()
        stop.set()
        during = await loaded
        await api.aclose()
    print(out.decode().strip())
    print(summary("API, quiet", baseline))
    print(summary("API, flood", during))


async def flood(url: str, token: str, pings: int) -> None:
    """Send `pings` pings as fast as the connection takes them; wait for every pong."""
    ws = await websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"})
    await ws.send(p.encode(p.Hello(agent="flood")).decode())
    pongs = 0

    async def read() -> None:
        nonlocal pongs
        try:
            async for raw in ws:
                if b'"pong"' in (raw.encode() if isinstance(raw, str) else raw):
                    pongs += 1
                    if pongs == pings:
                        return
        except websockets.ConnectionClosed:
            pass

    reader = asyncio.create_task(read())
    started = time.perf_counter()
    frame = p.encode(p.Ping(nonce=1)).decode()
    closed = ""
    try:
        for _ in range(pings):
            await ws.send(frame)
    except websockets.ConnectionClosed as exc:
        closed = f"; the server closed the connection: {exc}"
    sent = time.perf_counter() - started
    await asyncio.wait_for(reader, 300)
    print(
        f"{pings} pings sent in {sent:.1f} s, {pongs} answered in "
        f"{time.perf_counter() - started:.1f} s{closed}"
    )
    await ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pings", type=int, default=100_000)
    parser.add_argument("--flood", nargs=3, metavar=("URL", "TOKEN", "PINGS"), help="internal")
    args = parser.parse_args()
    if args.flood:
        asyncio.run(flood(args.flood[0], args.flood[1], int(args.flood[2])))
    else:
        asyncio.run(run(args.pings))


if __name__ == "__main__":
    main()
