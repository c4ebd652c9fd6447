"""Messages per second through each web gateway against its local fake, with 50 sends in
flight, and the p50/p99 latency the gateway adds over the fake's own handling time.

    python bench/gateways.py                    # 2000 messages per gateway, 50 in flight
    python bench/gateways.py --messages 500 --concurrency 50 --fake-delay 0.005

Each fake is a real HTTP(S) server in a thread of this process (tests/gateways/fakes). For
every message the bench takes the time from the dispatcher's call to the gateway until
the outcome, and subtracts the time the fake spent answering that very request (measured
inside the fake, matched by message id): what is left is ours — building the request,
TLS, httpx, parsing, the dispatcher — plus the kernel and the GIL shared with the fake.
The whole chain shares one process on a small machine, so take the figures as relative.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench import fakeserver  # noqa: E402
from server.gateways.base import Job  # noqa: E402
from server.gateways.dispatch import Dispatcher, Outcome, Policy  # noqa: E402
from server.gateways.http import make_client  # noqa: E402
from server.gateways.o2.gateway import O2Gateway  # noqa: E402
from server.gateways.smsbrana.gateway import SmsbranaGateway  # noqa: E402
from server.gateways.url import UrlGateway  # noqa: E402
from tests.gateways.fakes.httpserver import Request  # noqa: E402
from tests.gateways.fakes.o2 import PATH as PATH_O2  # noqa: E402
from tests.gateways.fakes.o2 import FakeO2  # noqa: E402
from tests.gateways.fakes.recorder import Recorder  # noqa: E402
from tests.gateways.fakes.smsbrana import PATH as PATH_SMSBRANA  # noqa: E402
from tests.gateways.fakes.smsbrana import FakeSmsbrana  # noqa: E402


class Sink:
    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}

    async def report(self, message_id: str, state: str, reason=None, detail=None) -> None:  # type: ignore[no-untyped-def]
        self.outcomes[message_id] = f"{state}:{reason}"

    async def sent(self, message_id: str, ref: str | None) -> None:
        self.outcomes[message_id] = "sent"


class ServerTimes:
    """Wraps a fake's handler: how long the fake took for each message id."""

    def __init__(
        self, handler: Callable[[Request], object], key: Callable[[Request], str], delay: float
    ):
        self._handler = handler
        self._key = key
        self._delay = delay  # the server sleeps this long before the handler: the fake's too
        self.took: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> object:
        start = time.perf_counter()
        answer = self._handler(request)
        took = time.perf_counter() - start + self._delay
        with self._lock:
            self.took[self._key(request)] = took
        return answer


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(
    name: str, dispatcher: Dispatcher, jobs: list[Job], fake: RemoteFake, sink: Sink
) -> None:
    client_took: dict[str, float] = {}
    inner = dispatcher._send_one

    async def timed(job: Job) -> Outcome:
        start = time.perf_counter()
        outcome = await inner(job)
        client_took[job.id] = time.perf_counter() - start
        return outcome

    dispatcher._send_one = timed
    # Warm up: connections, TLS sessions, imports.
    await dispatcher.hand_off(jobs[:20])
    await dispatcher.drain()
    client_took.clear()
    fake.times()
    start = time.perf_counter()
    await dispatcher.hand_off(jobs[20:])
    await dispatcher.drain()
    wall = time.perf_counter() - start
    server_took = fake.times()
    measured = jobs[20:]
    sent = sum(1 for j in measured if sink.outcomes.get(j.id) == "sent")
    added = [
        (client_took[j.id] - server_took[j.id]) * 1000
        for j in measured
        if j.id in client_took and j.id in server_took
    ]
    fake_ms = [server_took[j.id] * 1000 for j in measured if j.id in server_took]
    print(
        f"{name:9} {len(measured):6} msgs  {sent / wall:8.0f} msg/s  "
        f"fake p50 {statistics.median(fake_ms):6.2f} ms  "
        f"added p50 {pct(added, 0.5):6.2f} ms  p99 {pct(added, 0.99):7.2f} ms  "
        f"sent {sent}/{len(measured)}"
    )
    if sent != len(measured):
        failed = {v for k, v in sink.outcomes.items() if v != "sent"}
        print(f"          not sent: {sorted(failed)[:3]}")


def jobs_for(n: int, config: dict[str, str], secrets: dict[str, str]) -> list[Job]:
    return [
        Job(f"bench{i:06d}", 1, "+420777123456", f"bench{i:06d}", 1, config, secrets)
        for i in range(n)
    ]


def fake_process(kind: str, conn: Connection, delay: float, folder: str) -> None:
    asyncio.run(_fake_main(kind, conn, delay, folder))


async def _fake_main(kind: str, conn: Connection, delay: float, folder: str) -> None:
    """The child: run one fake, tell the parent where, answer "times" and "stop"."""
    info: dict[str, str] = {}
    tls = None
    if kind == "smsbrana":
        fake = FakeSmsbrana()
        fake.add_account("bench", "pw", credit=10**9)
        times = ServerTimes(fake.handle, lambda r: r.params().get("user_id", ""), delay)
        suffix = PATH_SMSBRANA
    elif kind == "url":
        rec = Recorder()
        times = ServerTimes(rec.handle, lambda r: dict(r.query).get("t", ""), delay)
        suffix = "/send?to=[PHONE]&t=[MSG]"
    else:
        o2 = FakeO2(report_codes=())
        times = ServerTimes(o2.handle, lambda r: r.params().get("text", ""), delay)
        info["cert"] = str(o2.issue_client("1992125", Path(folder), "pw"))
        info["ca"] = str(o2.ca_file(Path(folder)))
        tls = o2.server_context()
        suffix = PATH_O2
    server, base = await fakeserver.serve(times, tls=tls, delay=delay)
    info["url"] = base + suffix
    conn.send(info)
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "times":
            conn.send(dict(times.took))
            times.took.clear()
        else:
            server.close()
            return


class RemoteFake:
    """A fake in its own process, so its threads do not compete with our event loop for
    the GIL (which would show up as latency "added by the gateway")."""

    def __init__(self, kind: str, delay: float, folder: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=fake_process, args=(kind, child, delay, folder))
        self._proc.start()
        self.info: dict[str, str] = self._conn.recv()

    def times(self) -> dict[str, float]:
        self._conn.send("times")
        return self._conn.recv()

    def stop(self) -> None:
        self._conn.send("stop")
        self._proc.join(10)


async def baseline(
    http: httpx.AsyncClient, concurrency: int, n: int, delay: float, tmp: str
) -> None:
    """Plain httpx GETs against the URL fake at the same concurrency: what the HTTP stack
    and this machine cost before any gateway code runs."""
    fake = RemoteFake("url", delay, tmp)
    template = fake.info["url"]
    slots = asyncio.Semaphore(concurrency)
    took: dict[str, float] = {}

    async def one(i: int) -> None:
        key = f"raw{i:06d}"
        async with slots:
            start = time.perf_counter()
            await http.get(template.replace("[PHONE]", "%2B420777123456").replace("[MSG]", key))
            took[key] = time.perf_counter() - start

    await asyncio.gather(*(one(i) for i in range(20)))
    took.clear()
    fake.times()
    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(20, n)))
    wall = time.perf_counter() - start
    server_took = fake.times()
    fake.stop()
    added = [(took[k] - server_took[k]) * 1000 for k in took if k in server_took]
    print(
        f"{'raw httpx':9} {len(took):6} reqs  {len(took) / wall:8.0f} req/s  "
        f"{'':22}added p50 {pct(added, 0.5):6.2f} ms  p99 {pct(added, 0.99):7.2f} ms"
    )


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--fake-delay", type=float, default=0.0, help="seconds each fake answer takes")
    args = ap.parse_args()
    policy = Policy(concurrency=args.concurrency, rate=0, max_attempts=1, backlog=10**6)
    n = args.messages + 20
    print(f"{args.messages} messages, {args.concurrency} in flight, fake delay {args.fake_delay}s")
    http = make_client()
    with tempfile.TemporaryDirectory() as tmp:
        await baseline(http, args.concurrency, n, args.fake_delay, tmp)
        for kind in ("smsbrana", "url", "o2"):
            fake = RemoteFake(kind, args.fake_delay, tmp)
            sink = Sink()
            url = fake.info["url"]
            if kind == "smsbrana":
                gw: SmsbranaGateway | UrlGateway | O2Gateway = SmsbranaGateway(
                    http, sink, policy=policy
                )
                jobs = jobs_for(n, {"login": "bench", "url": url}, {"password": "pw"})
            elif kind == "url":
                gw = UrlGateway(http, sink, policy=policy)
                jobs = jobs_for(n, {"url": url}, {})
            else:
                gw = O2Gateway(sink, policy=policy)
                config = {"id": "1992125", "cert": fake.info["cert"], "ca": fake.info["ca"]}
                jobs = jobs_for(n, config | {"url": url}, {"certPasswd": "pw"})
            try:
                await run(kind, gw.dispatcher, jobs, fake, sink)
            finally:
                fake.stop()
                if isinstance(gw, O2Gateway):
                    await gw.close()
    await http.aclose()


if __name__ == "__main__":
    asyncio.run(main())
