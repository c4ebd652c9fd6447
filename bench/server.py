"""POST /api/messages under load: throughput and p50/p99 latency, 50 keep-alive clients.

    python bench/server.py                      # SQLite and PostgreSQL, 10 s each
    python bench/server.py --db sqlite --seconds 5 --clients 50
    python bench/server.py --kannel             # also Kannel's sendsms, same load generator

The server runs as its own process (uvicorn, one worker) with every gateway replaced by an
in-memory sink that acknowledges at once, so what is measured is the API, the checks and the
database: every 202 is sent only after its message is committed (group commit). After the
run the bench counts the stored messages and fails if any accepted message is missing.

The load generator is a small raw HTTP/1.1 client on asyncio (uvloop when present), so that
the generator is not the bottleneck; it reuses each connection (keep-alive).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "sbu_bench-admin-token"
PG_ADMIN_URL = os.environ.get(
    "SMSBRIDGE_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


# ---------------------------------------------------------------- the server under test


class Sink:
    """The in-memory gateway: takes every job at once, keeps only a count."""

    def __init__(self) -> None:
        self.jobs = 0

    async def hand_off(self, jobs: list[object]) -> None:
        self.jobs += len(jobs)


async def serve(db: str, port: int, key_file: str) -> None:
    sys.setswitchinterval(float(os.environ.get("BENCH_SWITCH", "0.005")))
    import uvicorn

    from server.app import create_app
    from server.gateways.base import Registry
    from server.runtime import open_server
    from server.settings import Settings
    from sms.model import GatewayType

    settings = Settings(db=db, port=port, key_file=key_file, log_level="warning")
    sink = Sink()
    gateways = Registry(dict.fromkeys(GatewayType, sink))
    async with open_server(settings, gateways=gateways, admin_token=TOKEN) as server:
        app = create_app(settings, server)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
        )
        srv = uvicorn.Server(config)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: setattr(srv, "should_exit", True))
        serving = asyncio.create_task(srv.serve())
        while not srv.started:  # uvicorn has no "listening" callback; it sets this flag
            if serving.done():
                await serving
                return
            await asyncio.sleep(0.01)
        print("READY", flush=True)
        cpu_at_start = time.process_time()
        await serving
        print(
            json.dumps(
                {
                    "batches": server.writer.batches,
                    "rows": server.writer.rows,
                    "sink": sink.jobs,
                    # CPU the server used while serving (threads included), not its start-up
                    "cpu_s": round(time.process_time() - cpu_at_start, 2),
                }
            ),
            flush=True,
        )


def run_loop(coro_fn: Callable[[], object]) -> object:
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(coro_fn())  # type: ignore[arg-type]


# ---------------------------------------------------------------- the load generator


@dataclass
class Result:
    name: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    stored: int | None = None
    accepted: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value.strip())
        elif lname == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]
    return status, await reader.readexactly(length) if length else b""


async def load(
    name: str,
    host: str,
    port: int,
    make_request: Callable[[int], bytes],
    clients: int,
    seconds: float,
    warmup: float,
    accept: Callable[[int, bytes], bool],
) -> Result:
    """`clients` connections, each sending its next request as soon as the last is answered."""
    result = Result(name, seconds)
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    counter = iter(range(10**12))

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                sent = time.perf_counter()
                if sent >= stop_at:
                    return
                writer.write(make_request(next(counter)))
                status, body = await _read_response(reader)
                done = time.perf_counter()
                if accept(status, body):
                    result.accepted += 1
                if sent >= measure_from and done <= stop_at:
                    result.latencies.append(done - sent)
                    result.statuses[status] += 1
        except (ConnectionError, asyncio.IncompleteReadError):
            result.errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return result


def smsbridge_request(host: str, port: int) -> Callable[[int], bytes]:
    def make(n: int) -> bytes:
        body = json.dumps({"to": "+420774884138", "text": f"bench message {n}"}).encode()
        return (
            f"POST /api/messages HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    return make


# ---------------------------------------------------------------- databases


@contextlib.contextmanager
def sqlite_db() -> Iterator[tuple[str, Path]]:
    with tempfile.TemporaryDirectory(prefix="smsbridge-bench-") as tmp:
        yield f"sqlite:///{tmp}/bench.sqlite", Path(tmp)


@contextlib.contextmanager
def postgres_db() -> Iterator[tuple[str, Path]]:
    """A database of its own, dropped afterwards."""
    import asyncpg
    from sqlalchemy.engine import make_url

    admin = make_url(PG_ADMIN_URL)
    name = f"smsbridge_bench_{uuid.uuid4().hex[:10]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        with tempfile.TemporaryDirectory(prefix="smsbridge-bench-") as tmp:
            yield admin.set(database=name).render_as_string(hide_password=False), Path(tmp)
    finally:
        asyncio.run(execute(f'DROP DATABASE "{name}" WITH (FORCE)'))


async def count_messages(db: str) -> int:
    from sqlalchemy import func, select

    from server.db.engine import make_engine
    from server.db.tables import Message

    engine = make_engine(db)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(Message))).scalar())
    finally:
        await engine.dispose()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server_process(db: str, tmp: Path) -> Iterator[tuple[int, dict[str, object]]]:
    port = free_port()
    stats: dict[str, object] = {}
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "serve",
            "--db",
            db,
            "--port",
            str(port),
            "--key-file",
            str(tmp / "bench.key"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "READY":
            break
    else:
        raise SystemExit(f"bench: the server did not start (exit {proc.wait()})")
    try:
        yield port, stats
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        for line in out.splitlines():
            if line.startswith("{"):
                stats.update(json.loads(line))


def bench_smsbridge(kind: str, clients: int, seconds: float, warmup: float) -> Result:
    make_db = sqlite_db if kind == "sqlite" else postgres_db
    with make_db() as (db, tmp):
        with server_process(db, tmp) as (port, stats):
            result = run_loop(
                lambda: load(
                    f"smsbridge ({kind})",
                    "127.0.0.1",
                    port,
                    smsbridge_request("127.0.0.1", port),
                    clients,
                    seconds,
                    warmup,
                    lambda status, _: status == 202,
                )
            )
        assert isinstance(result, Result)
        result.stored = asyncio.run(count_messages(db))
        result.extra = stats
    return result


# ---------------------------------------------------------------- report


def report(results: list[Result], clients: int) -> str:
    lines = [
        f"POST /api/messages, {clients} keep-alive clients, "
        f"{results[0].seconds:.0f} s measured after warm-up",
        f"{'system':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ok':>9} "
        f"{'accepted':>9} {'stored':>9} {'lost':>5}  notes",
    ]
    base = next((r for r in results if r.name.startswith("kannel")), None)
    for r in results:
        ok = sum(n for s, n in r.statuses.items() if 200 <= s < 300)
        lost = "" if r.stored is None else str(r.accepted - r.stored)
        notes = []
        if r.extra.get("rows"):
            notes.append(
                f"{r.extra['rows']} rows in {r.extra['batches']} commits "
                f"({int(r.extra['rows']) / max(1, int(r.extra['batches'])):.0f}/commit)"
            )
        if r.extra.get("cpu_s") and r.accepted:
            notes.append(f"server CPU {float(r.extra['cpu_s']) * 1000 / r.accepted:.2f} ms/msg")
        if base is not None and r is not base and base.rate:
            notes.append(f"{r.rate / base.rate:.2f}x Kannel")
        other = {s: n for s, n in r.statuses.items() if not 200 <= s < 300}
        if other or r.errors:
            notes.append(f"non-2xx {dict(other)} errors {r.errors}")
        lines.append(
            f"{r.name:<22} {r.rate:>8.0f} {r.pct(0.50):>8.2f} {r.pct(0.99):>8.2f} {ok:>9} "
            f"{r.accepted:>9} {'-' if r.stored is None else r.stored:>9} {lost or '-':>5}  "
            + "; ".join(notes)
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    s = sub.add_parser("serve", help="(internal) run the server under test")
    s.add_argument("--db", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--key-file", required=True)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--kannel", action="store_true", help="also run Kannel's sendsms")
    parser.add_argument("--json", action="store_true", help="print results as JSON too")
    args = parser.parse_args(argv)
    if args.command == "serve":
        if profile := os.environ.get("BENCH_PROFILE"):  # a cProfile dump of the server
            import cProfile

            with cProfile.Profile() as prof:
                run_loop(lambda: serve(args.db, args.port, args.key_file))
            prof.dump_stats(profile)
        else:
            run_loop(lambda: serve(args.db, args.port, args.key_file))
        return 0

    results: list[Result] = []
    if args.kannel:
        from bench_kannel import bench_kannel  # type: ignore[import-not-found]

        results.append(
            bench_kannel(load, run_loop, Result, args.clients, args.seconds, args.warmup)
        )
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        results.append(bench_smsbridge(kind, args.clients, args.seconds, args.warmup))
    print(report(results, args.clients))
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": r.name,
                        "rate": round(r.rate, 1),
                        "p50_ms": round(r.pct(0.5), 3),
                        "p99_ms": round(r.pct(0.99), 3),
                        "accepted": r.accepted,
                        "stored": r.stored,
                        **r.extra,
                    }
                    for r in results
                ]
            )
        )
    lost = [r.name for r in results if r.stored is not None and r.stored < r.accepted]
    if lost:
        print(
            f"bench: accepted messages missing from the store: {', '.join(lost)}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
