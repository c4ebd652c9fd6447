"""Bridge throughput and latency, measured on real processes over loopback.

    .venv/bin/python bench/bridge.py modem  [--messages 500]
        sms-server and sms-agent run as processes, the virtual modem in this one: for each
        message, the time from POST /api/messages to its AT+CMGS at the modem; and the
        rate of the whole batch.
    .venv/bin/python bench/bridge.py agents [--agents 100] [--messages 5000]
        sms-server as a process and N simulated agents here (the real protocol session,
        acking each job at once): time from POST to the job reaching its agent, and the
        rate across all agents.

Both post with 50 concurrent clients and print p50/p99 and messages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.modem.virtual import VirtualModem  # noqa: E402
from agent.modem.virtual_core import VirtualConfig  # noqa: E402
from bench.server import read_response  # noqa: E402
from bridge import protocol as p  # noqa: E402
from bridge.agent_session import AgentSession, ApplyConfig, StoreJob  # noqa: E402
from tests.integration.chaos_tools import Process, free_port  # noqa: E402

TOKEN = "sbu_bench-admin-token-0123456789abcdef"
CONCURRENCY = 50


def now() -> datetime:
    return datetime.now(UTC)


async def until(what: str, check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    """Wait for `check()` to be true, at most `timeout` s; then stop the bench saying what
    it waited for (a bench must never hang)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise SystemExit(f"waited {timeout:.0f} s for {what}; it did not happen")
        await asyncio.sleep(0.1)


async def lines_up(http: httpx.AsyncClient, agents: int) -> bool:
    listed = (await http.get("/api/agents")).json()
    up = [a for a in listed if a["online"] and any(s["up"] for s in a["line_status"])]
    return len(up) == agents


async def start_modem_agent(http: httpx.AsyncClient, tmp: Path, port: int, link: str) -> Process:
    """Register agent `bench` and the default `modem` account GSM1 on the virtual modem at
    `link`, start `sms-agent run` as the README does, and wait for the line to be up."""
    token = (await http.post("/api/agents", json={"name": "bench"})).json()["token"]
    config = f"device = {link}\nbaudrate = 115200\npin =\nagent = bench"
    await http.post(
        "/api/accounts",
        json={"name": "GSM1", "gateway": "modem", "config": config, "default": True},
    )
    (tmp / "agent.toml").write_text(
        f'server = "ws://127.0.0.1:{port}/agent"\nname = "bench"\ntoken = "{token}"\n'
        f'state_dir = "{tmp}/agent"\nallow = ["{tmp}/gsmmodem*"]\n'
    )
    agent = Process("sms-agent", ["sms-agent", "run", "--config", str(tmp / "agent.toml")], tmp, {})
    agent.start()
    await until("the agent's modem line up", lambda: lines_up(http, 1), 60)
    return agent


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def report(name: str, latencies: list[float], elapsed: float) -> None:
    ms = [v * 1000 for v in latencies]
    print(
        f"{name}: {len(ms)} messages in {elapsed:.2f} s = {len(ms) / elapsed:,.0f} msg/s; "
        f"latency p50 {statistics.median(ms):.1f} ms, p99 {pct(ms, 0.99):.1f} ms, "
        f"max {max(ms):.1f} ms"
    )


async def start_server(tmp: Path) -> tuple[Process, httpx.AsyncClient, int]:
    port = free_port()
    server = Process(
        "sms-server",
        [
            "sms-server",
            "--db",
            f"sqlite:///{tmp}/server.sqlite",
            "--port",
            str(port),
            "--key-file",
            str(tmp / "server.key"),
            "--log-level",
            "warning",
        ],
        tmp,
        {"SMSBRIDGE_ADMIN_TOKEN": TOKEN},
    )
    server.start()
    http = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        limits=httpx.Limits(max_connections=CONCURRENCY),
        timeout=30,
    )
    for _ in range(300):
        try:
            if (await http.get("/healthz")).status_code == 200:
                return server, http, port
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("sms-server did not start:\n" + server.tail())


async def post_all(port: int, bodies: list[dict], posted: dict[str, float]) -> None:
    """POST every body from 50 keep-alive connections (a raw HTTP/1.1 client, as in
    bench/server.py, so that the load generator is not what is measured)."""
    queue = list(bodies)

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                body = json.dumps(queue.pop()).encode()
                t = time.monotonic()
                writer.write(
                    (
                        f"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n"
                    ).encode()
                    + body
                )
                status, answer = await read_response(reader)
                if status != 202:
                    raise SystemExit(f"POST /api/messages answered {status}: {answer[:200]!r}")
                posted[json.loads(answer)["id"]] = t
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))


async def bench_modem(messages: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        link = str(tmp / "gsmmodem0")
        modem = VirtualModem(VirtualConfig(), link=link)
        modem.start()
        server, http, port = await start_server(tmp)
        agent = None
        try:
            agent = await start_modem_agent(http, tmp, port, link)
            # Latency: one message at a time, the line idle, as a CRM user sends one.
            singles = []
            for i in range(min(100, messages)):
                t = time.monotonic()
                r = await http.post(
                    "/api/messages", json={"to": "+420774884138", "text": f"single {i:04d}"}
                )
                r.raise_for_status()
                sub = await asyncio.to_thread(
                    modem.wait_for,
                    lambda m, i=i: next(
                        (s for s in m.submissions if s.submit.text == f"single {i:04d}"), None
                    ),
                    30,
                )
                singles.append(sub.time - t)
            report("POST → AT+CMGS, one at a time", singles, sum(singles))
            # Throughput: a burst from 50 clients; each text names its message.
            base = len(modem.submissions)
            bodies = [{"to": "+420774884138", "text": f"bench {i:06d}"} for i in range(messages)]
            posted: dict[str, float] = {}
            t0 = time.monotonic()
            await post_all(port, bodies, posted)
            await asyncio.to_thread(
                modem.wait_for, lambda m: len(m.submissions) >= base + messages, 600
            )
            elapsed = max(s.time for s in modem.submissions) - t0
            by_text = {s.submit.text: s.time for s in modem.submissions}
            texts = {}
            for mid in posted:
                r = await http.get(f"/api/messages/{mid}")
                texts[mid] = r.json()["text"]
            latencies = [by_text[texts[mid]] - t for mid, t in posted.items()]
            report(f"POST → AT+CMGS, burst of {messages} from 50 clients", latencies, elapsed)
        finally:
            if agent:
                agent.stop()
            server.stop()
            await http.aclose()
            modem.stop()


async def bench_agents(agents: int, messages: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        server, http, port = await start_server(tmp)
        received: dict[str, float] = {}
        done = asyncio.Event()
        try:
            tokens = []
            for n in range(agents):
                name = f"sim-{n:03d}"
                r = await http.post("/api/agents", json={"name": name})
                tokens.append((name, r.json()["token"]))
                await http.post(
                    "/api/accounts",
                    json={
                        "name": f"line-{n:03d}",
                        "gateway": "modem",
                        "config": f"device = /dev/gsmmodem{n}\nbaudrate = 115200\npin =\n"
                        f"agent = {name}",
                    },
                )
            accounts = {a["name"]: a["id"] for a in (await http.get("/api/accounts")).json()}

            async def simulated(name: str, token: str) -> None:
                """One agent as its device line would behave: the pushed configuration is
                applied and the line reported up; each job is stored, acknowledged and
                reported Sent at once (a modem line takes its next job only after the
                previous one's Sent)."""
                session = AgentSession(p.Hello(agent=name))
                event_id = 0
                async with websockets.connect(
                    f"ws://127.0.0.1:{port}/agent",
                    additional_headers={"Authorization": f"Bearer {token}"},
                    max_size=p.MAX_FRAME_BYTES,
                ) as ws:
                    for frame in session.data_to_send():
                        await ws.send(frame.decode())
                    async for message in ws:
                        for action in session.receive_data(message):
                            if isinstance(action, ApplyConfig):
                                line = action.push.line
                                session.config_result(line, True)
                                session.line_status(p.LineStatus(line=line, up=True, at=now()))
                            elif isinstance(action, StoreJob):
                                job = action.job
                                received[job.id] = time.monotonic()
                                session.job_stored(job.id)
                                event_id += 1
                                session.event(p.Sent(event_id=event_id, job_id=job.id, at=now()))
                        for frame in session.data_to_send():
                            await ws.send(frame.decode())
                        if len(received) >= messages:
                            done.set()

            tasks = [asyncio.create_task(simulated(n, t)) for n, t in tokens]
            await until(
                f"all {agents} simulated agents online with their line up",
                lambda: lines_up(http, agents),
                60,
            )
            ids = [accounts[f"line-{i % agents:03d}"] for i in range(messages)]
            bodies = [
                {"to": "+420774884138", "text": f"m{i}", "account": a} for i, a in enumerate(ids)
            ]
            posted: dict[str, float] = {}
            t0 = time.monotonic()
            await post_all(port, bodies, posted)
            try:
                await asyncio.wait_for(done.wait(), 600)
            except TimeoutError:
                raise SystemExit(
                    f"waited 600 s for {messages} jobs to reach the agents; {len(received)} arrived"
                ) from None
            elapsed = max(received.values()) - t0
            report(
                f"POST → job at the agent, {agents} simulated agents",
                [received[mid] - t for mid, t in posted.items()],
                elapsed,
            )
            for task in tasks:
                task.cancel()
        finally:
            server.stop()
            await http.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["modem", "agents"])
    parser.add_argument("--messages", type=int)
    parser.add_argument("--agents", type=int, default=100)
    args = parser.parse_args()
    if args.mode == "modem":
        asyncio.run(bench_modem(args.messages or 500))
    else:
        asyncio.run(bench_agents(args.agents, args.messages or 5000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
