"""Events and webhooks under load: delivered events/s to a local receiver, the lag from the
state change's commit to the receiver (p50/p99), on SQLite and PostgreSQL; and POST
/api/messages throughput with and without an active webhook (bench/server.py's load).

    python bench/events.py                       # everything, SQLite and PostgreSQL
    python bench/events.py --db sqlite --events 5000 --rate 200 --seconds 5
    python bench/events.py --skip-post           # only the delivery figures

The receiver is its own process (a small asyncio HTTP/1.1 server answering 200 at once),
so it is not what is measured. The server side runs in this process as sms-server opens
it (open_server, one worker, its webhook deliverer); events are made by committing
messages through the group-commit writer, each with its `message.queued` event.

Throughput: N messages committed as fast as the writer takes them, then the time until
the receiver has all N events. Lag: messages committed at a steady rate; for each event
the receiver's arrival time minus the commit (the writer's commit returns; same clock).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.server import (  # noqa: E402
    TOKEN,
    free_port,
    load,
    postgres_db,
    run_loop,
    server_process,
    smsbridge_request,
    sqlite_db,
)

# ---------------------------------------------------------------- the receiver process


def receiver_main(port: int, count: mp.Value, out: str, ready: mp.Event) -> None:  # type: ignore[valid-type]
    arrivals: list[tuple[str, float]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                now = time.time()
                length, hook_id = 0, ""
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    lname = name.strip().lower()
                    if lname == b"content-length":
                        length = int(value)
                    elif lname == b"webhook-id":
                        hook_id = value.strip().decode()
                if length:
                    await reader.readexactly(length)
                arrivals.append((hook_id, now))
                with count.get_lock():  # type: ignore[attr-defined]
                    count.value += 1  # type: ignore[attr-defined]
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)
        ready.set()
        async with server:
            while True:
                await asyncio.sleep(0.2)
                if Path(out + ".stop").exists():
                    Path(out).write_text(json.dumps(arrivals))
                    Path(out + ".done").write_text("")
                    return

    run_loop(main)


@contextlib.contextmanager
def receiver(tmp: Path) -> Iterator[tuple[str, mp.Value, Path]]:  # type: ignore[valid-type]
    port = free_port()
    count = mp.Value("i", 0)
    ready = mp.Event()
    out = tmp / f"arrivals-{uuid.uuid4().hex[:6]}.json"
    proc = mp.Process(target=receiver_main, args=(port, count, str(out), ready), daemon=True)
    proc.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port}/hook", count, out
    finally:
        Path(str(out) + ".stop").write_text("")
        proc.join(10)
        proc.kill()


def arrivals_of(out: Path) -> dict[str, float]:
    done = Path(str(out) + ".done")
    deadline = time.monotonic() + 10
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return {hook_id: at for hook_id, at in json.loads(out.read_text())}


# ---------------------------------------------------------------- delivery and lag


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def deliveries(
    db: str, tmp: Path, url: str, count: mp.Value, n: int, rate: float, seconds: float
) -> dict[str, float]:  # type: ignore[valid-type]
    import datetime as dt

    from sqlalchemy import select

    from server.db.tables import Event
    from server.gateways.base import Registry
    from server.gateways.loopback import Loopback
    from server.runtime import open_server
    from server.settings import Settings
    from server.webhooks import manage
    from server.webhooks.schemas import WebhookIn
    from sms.model import GatewayType

    settings = Settings(db=db, key_file=str(tmp / "bench.key"), log_level="warning")
    gateways = Registry(dict.fromkeys(GatewayType, Loopback()))
    async with open_server(settings, gateways=gateways, admin_token=TOKEN) as server:
        async with server.sessions.begin() as session:
            await manage.create(session, server.box, WebhookIn(url=url, events=["*"]), set())

        def row(i: int) -> dict[str, object]:
            return {
                "id": uuid.uuid4().hex,
                "direction": "out",
                "account_id": 1,
                "gateway": "smsbrana",
                "user_id": 1,
                "peer": f"+42077{i:07d}",
                "text": f"bench {i}",
                "encoding": "gsm7",
                "parts": 1,
                "state": "queued",
                "created_at": dt.datetime.now(dt.UTC),
            }

        # Throughput: a burst of n, as fast as the writer commits them.
        start = time.perf_counter()
        base = count.value  # type: ignore[attr-defined]
        await asyncio.gather(*(server.writer.insert(row(i)) for i in range(n)))
        committed = time.perf_counter()
        while count.value - base < n:  # type: ignore[attr-defined]
            await asyncio.sleep(0.01)
        burst = time.perf_counter() - start

        # Lag: a steady rate; each event's commit time is when its insert returned.
        commits: dict[str, float] = {}
        ids: list[str] = []

        async def one(i: int) -> None:
            r = row(n + i)
            await server.writer.insert(r)
            commits[str(r["id"])] = time.time()
            ids.append(str(r["id"]))

        tasks = []
        total = int(rate * seconds)
        t0 = time.perf_counter()
        for i in range(total):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
        while count.value - base < n + total:  # type: ignore[attr-defined]
            await asyncio.sleep(0.01)
        async with server.sessions() as session:
            events = dict(
                (
                    await session.execute(
                        select(Event.message_id, Event.id).where(Event.message_id.in_(ids))
                    )
                ).all()
            )
    return {
        "burst_events": n,
        "burst_s": burst,
        "commit_s": committed - start,
        "events_per_s": n / burst,
        "lag_ids": [(events[m], commits[m]) for m in ids],  # type: ignore[dict-item]
    }


def run_delivery(kind: str, n: int, rate: float, seconds: float) -> None:
    make_db = sqlite_db if kind == "sqlite" else postgres_db
    with make_db() as (db, tmp):
        with receiver(tmp) as (url, count, out):
            got = run_loop(lambda: deliveries(db, tmp, url, count, n, rate, seconds))
        arrived = arrivals_of(out)  # written by the receiver as it stops
    assert isinstance(got, dict)
    lags = [(arrived[e] - c) * 1000 for e, c in got["lag_ids"] if e in arrived]  # type: ignore[union-attr]
    print(
        f"{kind:10s}  burst {got['burst_events']} events in {got['burst_s']:.2f} s "
        f"= {got['events_per_s']:.0f} events/s delivered (commit alone {got['commit_s']:.2f} s); "
        f"lag at {rate:.0f}/s over {seconds:.0f} s: p50 {pct(lags, 0.5):.1f} ms, "
        f"p99 {pct(lags, 0.99):.1f} ms, max {max(lags):.1f} ms ({len(lags)} events)",
        flush=True,
    )


# ---------------------------------------------------------------- POST with and without


def run_post(kind: str, clients: int, seconds: float, warmup: float) -> None:
    import urllib.request

    make_db = sqlite_db if kind == "sqlite" else postgres_db
    rates = {}
    for with_hook in (False, True):
        with (
            make_db() as (db, tmp),
            receiver(tmp) as (url, count, _out),
            server_process(db, tmp, 1) as (port, _stats),
        ):
            if with_hook:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/webhooks",
                    data=json.dumps({"url": url, "events": ["*"]}).encode(),
                    headers={
                        "Authorization": f"Bearer {TOKEN}",
                        "Content-Type": "application/json",
                    },
                )
                with urllib.request.urlopen(req) as r:
                    assert r.status == 201
            result = run_loop(
                lambda: load(
                    kind,
                    "127.0.0.1",
                    port,
                    smsbridge_request("127.0.0.1", port),
                    clients,
                    seconds,
                    warmup,
                    lambda status, _: status == 202,
                )
            )
            delivered = count.value  # type: ignore[attr-defined]
        rates[with_hook] = result.rate  # type: ignore[union-attr]
        print(
            f"{kind:10s}  POST /api/messages {'with' if with_hook else 'without'} a webhook: "
            f"{result.rate:.0f} req/s, p50 {result.pct(0.5):.1f} ms, p99 {result.pct(0.99):.1f} ms"  # type: ignore[union-attr]
            + (f"; {delivered} events delivered meanwhile" if with_hook else ""),
            flush=True,
        )
    print(
        f"{kind:10s}  with webhook / without: {rates[True] / rates[False] * 100:.0f} %", flush=True
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--events", type=int, default=5000, help="burst size")
    parser.add_argument("--rate", type=float, default=200.0, help="events/s for the lag run")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the lag run")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--post-seconds", type=float, default=5.0)
    parser.add_argument("--skip-post", action="store_true")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        run_delivery(kind, args.events, args.rate, args.seconds)
        if not args.skip_post:
            run_post(kind, args.clients, args.post_seconds, 1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
