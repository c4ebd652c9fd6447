"""Spool lines' latency and idle cost.

    cd <worktree> && python -m bench.spool [--files 200] [--smsd-files 20] [--db URL ...]

1. smstools line, files written the way smsd writes them (rename into sent/ and
   failed/, write-in-place into incoming/): time from the file being complete to the
   line's event, median and p99 over --files files each.
2. CPU used by the line while nothing happens (5 s idle, all threads).
3. Real smsd (if installed) on the tests' fake AT modem: time from our file appearing in
   outgoing/ to smsd taking it (its `delaytime_mainprocess = 1`), and to the Sent event.
4. SMSLib line: queries per second at idle, and the latency from a row's status
   change to the Sent event, for each --db (default: a SQLite file).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from agent.spool.events import SpoolEvent, SpoolJob, SpoolReceived, SpoolSent
from agent.spool.smslib_line import SmslibConfig, SmslibLine
from agent.spool.smslib_tables import SmslibTables
from agent.spool.smstools_line import SmstoolsConfig, SmstoolsLine

INCOMING = (
    b"From: 420777123456\nSent: 24-05-02 10:20:00\nReceived: 24-05-02 10:20:05\n"
    b"Modem: GSM1\nAlphabet: ISO\nLength: 5\n\nAhoj!"
)


class Timer:
    """Callback that stamps each event as it arrives."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.event = asyncio.Event()
        self.want: Callable[[SpoolEvent], str | None] = lambda e: None

    async def __call__(self, event: SpoolEvent) -> None:
        key = self.want(event)
        if key is not None:
            self.arrived[key] = time.perf_counter()
            self.event.set()

    async def wait(self, key: str, timeout: float = 30.0) -> float:
        deadline = time.perf_counter() + timeout
        while key not in self.arrived:
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), max(0.001, deadline - time.perf_counter()))
        return self.arrived[key]


def summary(name: str, samples_s: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples_s)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"{name:<44} n={len(ms):<4} median {statistics.median(ms):7.2f} ms   "
        f"p99 {p99:7.2f} ms   max {ms[-1]:7.2f} ms"
    )


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def bench_smstools(root: Path, n: int) -> None:
    for d in ("outgoing", "sent", "failed", "incoming", "state"):
        (root / d).mkdir()
    config = SmstoolsConfig.from_account(
        {
            "in": str(root / "incoming"),
            "out": str(root / "outgoing"),
            "sent": str(root / "sent"),
            "failed": str(root / "failed"),
            "state_dir": str(root / "state"),
            "delete_incoming": True,
        }
    )
    timer = Timer()
    line = SmstoolsLine("bench", config, timer)
    await line.start()
    try:
        submit = []
        for i in range(2 * n):
            t0 = time.perf_counter()
            await line.submit(SpoolJob(id=f"b{i}", to="420777123456", text="bench"))
            submit.append(time.perf_counter() - t0)
        summary("submit (staged write + fsync + rename)", submit)

        def key(e: SpoolEvent) -> str:  # "Sent:b3": the kind as smsd's directories say it
            return f"{type(e).__name__.removeprefix('Spool')}:{getattr(e, 'job_id', None)}"

        timer.want = key
        files = {
            p.read_bytes().split(b"X-Smsbridge-Id: ")[1].split(b"\n")[0].decode(): p
            for p in (root / "outgoing").iterdir()
        }
        sent_headers = b"Modem: GSM1\nSent: 24-05-02 10:15:07\n"
        failed_headers = b"Fail_reason: +CMS ERROR: 38\nFailed: 24-05-02 10:15:07\n"
        for kind, dest, extra in (
            ("Sent", root / "sent", sent_headers),
            ("Failed", root / "failed", failed_headers),
        ):
            lat = []
            for i in range(n):
                job = f"b{i}" if kind == "Sent" else f"b{n + i}"
                src = files[job]
                head, body = src.read_bytes().split(b"\n\n", 1)
                tmp = root / f"tmp-{job}"
                tmp.write_bytes(head + b"\n" + extra + b"\n" + body)
                t0 = time.perf_counter()
                os.rename(tmp, dest / src.name)  # smsd's move into sent/ or failed/
                lat.append(await timer.wait(f"{kind}:{job}") - t0)
            summary(f"{kind.lower()}/ file -> {kind} event", lat)

        timer.want = lambda e: e.source_id if isinstance(e, SpoolReceived) else None
        lat = []
        for i in range(n):
            name = f"GSM1.b{i:05d}"
            with open(root / "incoming" / name, "wb") as f:  # written in place
                f.write(INCOMING)
            t0 = time.perf_counter()  # closed: complete from here
            lat.append(await timer.wait(name) - t0)
        summary("incoming/ file -> Received event", lat)

        await line.idle()
        await asyncio.sleep(5)  # the burst's aftermath (inotify events of our own moves, GC)
        c0, w0 = cpu(), time.perf_counter()
        await asyncio.sleep(5)
        used, wall = cpu() - c0, time.perf_counter() - w0
        print(f"{'idle CPU (line + watchdog threads)':<44} {used * 1000:.1f} ms in {wall:.1f} s")
    finally:
        await line.stop()


async def bench_smsd(root: Path, n: int) -> None:
    smsd = shutil.which("smsd") or "/usr/sbin/smsd"
    if not os.path.exists(smsd):
        print("real smsd: not installed, skipped")
        return
    from tests.spool.fake_modem import FakeModem
    from tests.spool.smsd_daemon import Smsd

    modem = FakeModem()
    daemon = Smsd(root, modem)
    daemon.start()
    timer = Timer()
    timer.want = lambda e: e.job_id if isinstance(e, SpoolSent) else None
    line = SmstoolsLine("bench", daemon.config(), timer)
    await line.start()
    try:
        pickup, sent = [], []
        for i in range(n):
            t0 = time.perf_counter()
            await line.submit(SpoolJob(id=f"s{i}", to="420777123456", text="bench"))
            while any(not p.name.startswith(".") for p in (root / "outgoing").iterdir()):
                await asyncio.sleep(0.005)  # smsd gives no signal when it takes a file
            pickup.append(time.perf_counter() - t0)
            sent.append(await timer.wait(f"s{i}") - t0)
        summary("real smsd: outgoing/ -> taken by smsd", pickup)
        summary("real smsd: outgoing/ -> Sent event", sent)
    finally:
        await line.stop()
        daemon.stop()
        modem.close()


async def bench_smslib(url: str, root: Path, n: int) -> None:
    engine = sa.create_engine(url)
    prefix = f"bench{os.getpid()}_"
    tables = SmslibTables(f"{prefix}out", f"{prefix}in")
    tables.create(engine)
    timer = Timer()
    timer.want = lambda e: e.job_id if isinstance(e, SpoolSent) else None
    poll = 0.2
    config = SmslibConfig.from_account(
        {
            "sqlURL": url,
            "state_dir": str(root),
            "table_out": tables.out.name,
            "table_in": tables.inbound.name,
            "poll_seconds": poll,
        }
    )
    line = SmslibLine("bench", config, timer)
    await line.start()
    name = engine.url.get_backend_name()
    try:
        q0, c0, w0 = line.queries, cpu(), time.perf_counter()
        await asyncio.sleep(3)
        wall = time.perf_counter() - w0
        print(
            f"{'smslib ' + name + ': idle':<44} {(line.queries - q0) / wall:.1f} queries/s "
            f"(poll {poll} s), CPU {(cpu() - c0) * 1000 / wall:.1f} ms/s"
        )
        lat = []
        out = tables.out
        for i in range(n):
            await line.submit(SpoolJob(id=f"q{i}", to="420777123456", text="bench"))
            await asyncio.sleep(poll * ((i * 7919) % 100) / 100)  # any phase of the poll
            with engine.begin() as conn:
                conn.execute(
                    sa.update(out).where(out.c.status == "U").values(status="S", ref_no="1")
                )
            t0 = time.perf_counter()
            lat.append(await timer.wait(f"q{i}") - t0)
        summary(f"smslib {name}: status S -> Sent (poll {poll} s)", lat)
    finally:
        await line.stop()
        tables.drop(engine)
        engine.dispose()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--smsd-files", type=int, default=20)
    ap.add_argument("--smslib-rows", type=int, default=30)
    ap.add_argument("--db", action="append", default=[])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-spool-") as tmp:
        root = Path(tmp)
        (root / "a").mkdir()
        await bench_smstools(root / "a", args.files)
        if args.smsd_files:
            (root / "b").mkdir()
            await bench_smsd(root / "b", args.smsd_files)
        for i, url in enumerate(args.db or [f"sqlite:///{root}/smslib.db"]):
            (root / f"c{i}").mkdir()
            await bench_smslib(url, root / f"c{i}", args.smslib_rows)


if __name__ == "__main__":
    asyncio.run(main())
