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

Columns: req/s, p50 and p99 over the measured window; ok = 2xx answers in that window;
accepted = every accepted message, warm-up included; stored = what the database (or
Kannel's bearerbox: sent + queued) holds afterwards; lost = accepted - stored.
"server CPU ms/msg" is the server's own CPU per stored message, the figure that does not
depend on what else the machine is running.
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

TOKEN = "sbu_bench-admin-token-0123456789"
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


BENCH_SETTINGS_ENV = "SMSBRIDGE_BENCH_SETTINGS"


def bench_app() -> object:
    """The app each uvicorn worker runs: the real one, every gateway an in-memory sink."""
    import msgspec
    from litestar import Litestar

    from server.app import create_app
    from server.gateways.base import Registry
    from server.settings import Settings
    from sms.model import GatewayType

    sys.setswitchinterval(float(os.environ.get("BENCH_SWITCH", "0.005")))
    settings = msgspec.json.decode(os.environ[BENCH_SETTINGS_ENV], type=Settings)
    sink = Sink()
    app = create_app(settings, gateways=Registry(dict.fromkeys(GatewayType, sink)))
    cpu_at_start: list[float] = []

    def started(_: Litestar) -> None:
        cpu_at_start.append(time.process_time())

    def stopping(app: Litestar) -> None:
        server = app.state.server
        stats = {
            "batches": server.writer.batches,
            "rows": server.writer.rows,
            "sink": sink.jobs,
            # CPU this worker used while serving (its threads too), not its start-up
            "cpu_s": round(time.process_time() - cpu_at_start[0], 2),
        }
        print(json.dumps(stats), flush=True)

    app.on_startup.append(started)
    app.on_shutdown.append(stopping)
    return app


def serve(db: str, port: int, key_file: str, workers: int) -> None:
    import msgspec
    import uvicorn

    from server.runtime import prepare_database
    from server.settings import Settings

    settings = Settings(db=db, port=port, key_file=key_file, log_level="warning")

    async def prepare() -> None:  # migrate and seed once, before the workers start
        await prepare_database(settings, admin_token=TOKEN)

    run_loop(prepare)
    os.environ[BENCH_SETTINGS_ENV] = msgspec.json.encode(settings).decode()
    uvicorn.run(
        "bench.server:bench_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        loop="uvloop",
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


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
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
                status, body = await read_response(reader)
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
        # A different recipient each time (the 77x mobile range), as a CRM's sending has.
        to = f"+42077{n % 10**7:07d}"
        body = json.dumps({"to": to, "text": f"bench message {n}"}).encode()
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


def wait_until_healthy(port: int, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    """Poll /healthz: with several workers there is no single "listening" line to wait for."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: the server exited with {proc.returncode}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r,
        ):
            if r.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit("bench: the server did not become healthy")


@contextlib.contextmanager
def server_process(db: str, tmp: Path, workers: int) -> Iterator[tuple[int, dict[str, object]]]:
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
    wait_until_healthy(port, proc)
    try:
        yield port, stats
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        for line in out.splitlines():  # one line per worker: add them up
            if line.startswith("{"):
                for key, value in json.loads(line).items():
                    stats[key] = stats.get(key, 0) + value  # type: ignore[operator]


def bench_smsbridge(kind: str, clients: int, seconds: float, warmup: float, workers: int) -> Result:
    make_db = sqlite_db if kind == "sqlite" else postgres_db
    with make_db() as (db, tmp):
        with server_process(db, tmp, workers) as (port, stats):
            result = run_loop(
                lambda: load(
                    f"smsbridge ({kind}, {workers}w)",
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


# ---------------------------------------------------------------- Kannel, for comparison

KANNEL_CONF = """
group = core
admin-port = {admin}
admin-password = bench
smsbox-port = {smsbox}
box-allow-ip = 127.0.0.1
log-level = 4
log-file = "{tmp}/bearerbox.log"
store-type = file
store-location = "{tmp}/kannel.store"

group = smsc
smsc = fake
smsc-id = FAKE
port = {fake}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {sendsms}
log-level = 4
log-file = "{tmp}/smsbox.log"

group = sendsms-user
username = bench
password = bench
max-messages = 3
concatenation = true
default-sender = 12345
"""
KANNEL_BIN = Path("/usr/sbin/bearerbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")


def ensure_kannel() -> None:
    """Install Debian's kannel (bearerbox, smsbox) and kannel-extras (fakesmsc) if missing."""
    if KANNEL_BIN.exists() and FAKESMSC.exists():
        return
    if os.geteuid() != 0:
        raise SystemExit("bench: Kannel is missing; as root: apt-get install kannel kannel-extras")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "kannel", "kannel-extras"],
        check=True,
        env=env,
    )


def kannel_status(port: int) -> str:
    import urllib.request

    url = f"http://127.0.0.1:{port}/status.txt?password=bench"
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def kannel_stored(status: str) -> int:
    """What bearerbox holds or passed on: 'SMS: received a (b queued), sent c (d queued)'."""
    import re

    line = r"^SMS: received \d+ \(\d+ queued\), sent (\d+) \((\d+) queued\)"
    found = re.search(line, status, re.MULTILINE)
    return int(found.group(1)) + int(found.group(2)) if found else -1


def bench_kannel(clients: int, seconds: float, warmup: float) -> Result:
    ensure_kannel()
    with tempfile.TemporaryDirectory(prefix="smsbridge-kannel-") as tmp:
        ports = {k: free_port() for k in ("admin", "smsbox", "fake", "sendsms")}
        conf = Path(tmp) / "kannel.conf"
        conf.write_text(KANNEL_CONF.format(tmp=tmp, **ports))
        procs = [subprocess.Popen([str(KANNEL_BIN), "-v", "4", str(conf)])]
        try:
            wait_for_port(ports["fake"])
            procs.append(
                subprocess.Popen(
                    [
                        str(FAKESMSC),
                        "-H",
                        "127.0.0.1",
                        "-r",
                        str(ports["fake"]),
                        "-m",
                        "0",
                        "1 2 text x",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            procs.append(subprocess.Popen(["/usr/sbin/smsbox", "-v", "4", str(conf)]))
            wait_for_port(ports["sendsms"])
            port = ports["sendsms"]

            def request(n: int) -> bytes:
                return (
                    f"GET /cgi-bin/sendsms?username=bench&password=bench&to=%2B42077{n % 10**7:07d}"
                    f"&text=bench+message+{n} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
                ).encode()

            result = run_loop(
                lambda: load(
                    "kannel (file store)",
                    "127.0.0.1",
                    port,
                    request,
                    clients,
                    seconds,
                    warmup,
                    lambda status, body: status == 202 or body.startswith(b"0:"),
                )
            )
            assert isinstance(result, Result)
            # smsbox may still be handing the last requests to bearerbox: wait until the
            # count stops moving (or covers every accepted message).
            stored, deadline = -1, time.monotonic() + 15
            while time.monotonic() < deadline:
                now = kannel_stored(kannel_status(ports["admin"]))
                if now >= result.accepted or now == stored:
                    break
                stored = now
                time.sleep(1)
            result.stored = now
            return result
        finally:
            for proc in reversed(procs):
                proc.send_signal(signal.SIGINT if proc is procs[0] else signal.SIGTERM)
            for proc in reversed(procs):
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def wait_for_port(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise SystemExit(f"bench: nothing listens on port {port}")


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
        if r.extra.get("cpu_s") and r.extra.get("rows"):
            cpu_ms = float(r.extra["cpu_s"]) * 1000 / int(r.extra["rows"])
            notes.append(f"server CPU {cpu_ms:.2f} ms/msg")
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
    s.add_argument("--workers", type=int, default=1)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=1, help="sms-server processes")
    parser.add_argument("--kannel", action="store_true", help="also run Kannel's sendsms")
    parser.add_argument("--json", action="store_true", help="print results as JSON too")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.db, args.port, args.key_file, args.workers)
        return 0

    results: list[Result] = []
    if args.kannel:
        results.append(bench_kannel(args.clients, args.seconds, args.warmup))
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        results.append(bench_smsbridge(kind, args.clients, args.seconds, args.warmup, args.workers))
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
