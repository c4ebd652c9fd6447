"""Routing across several paced lines: N virtual modems, each a line of one account on
two agents, each paced to `--rate` segments per minute; a real sms-server (in this
process, SQLite) and the real agent runtimes over real WebSockets.

    .venv/bin/python bench/routing.py                      # N=4, 20/min each, 60 s
    .venv/bin/python bench/routing.py --modems 8 --rate 30 --duration 120
    .venv/bin/python bench/routing.py --quick              # N=4, 20/min, 15 s
    .venv/bin/python bench/routing.py --rate 0 --messages 400   # unpaced: how fast

It queues more single-part messages than the lines may send, then counts, from the
modems' own logs, the segments sent in the run: against N × rate per started minute
(a rolling window lets a line send its whole minute at once, then wait), the most any
modem sent in one 60 s window (must not exceed the rate), and the scheduler's CPU time
(planning and recording rounds in the dispatcher) per message it routed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.modem.virtual_core import VirtualConfig  # noqa: E402
from tests.bridge.live import ADMIN_TOKEN  # noqa: E402
from tests.integration.routing_system import routing_system  # noqa: E402


def most_in_a_minute(times: list[float]) -> int:
    times = sorted(times)
    return max((sum(1 for u in times if t <= u < t + 60) for t in times), default=0)


async def run(modems: int, rate: int, duration: float, messages: int | None) -> None:
    os.environ["SMSBRIDGE_ADMIN_TOKEN"] = ADMIN_TOKEN
    windows = math.ceil(duration / 60)
    expected = modems * rate * windows if rate else None
    count = messages or (int(expected * 1.2) + modems if expected else 200 * modems)
    keys = {"per_minute": str(rate)} if rate else {}
    with tempfile.TemporaryDirectory() as tmp:
        async with routing_system(
            Path(tmp), modems=modems, modem_config=VirtualConfig(), **keys
        ) as system:
            server = system.server.uvicorn.config.app.state.server  # type: ignore[attr-defined]
            dispatcher = server.dispatcher
            wall0, plan0 = dispatcher.round_seconds, dispatcher.plan_seconds
            planned0, rounds0 = dispatcher.planned, dispatcher.rounds
            start = time.monotonic()
            for first in range(0, count, 50):
                batch = range(first, min(count, first + 50))
                await asyncio.gather(
                    *(system.send(f"+42077760{i:04d}", f"bench #{i}") for i in batch)
                )
            posted = time.monotonic() - start
            if rate:
                await asyncio.sleep(max(0.0, duration - (time.monotonic() - start)))
            else:
                while sum(len(m.submissions) for m in system.modems) < count:
                    await asyncio.sleep(0.05)
            elapsed = time.monotonic() - start
            wall = dispatcher.round_seconds - wall0
            planning = dispatcher.plan_seconds - plan0
            planned = dispatcher.planned - planned0
            rounds = dispatcher.rounds - rounds0
            sent = [
                [s.time for s in m.submissions if start <= s.time < start + elapsed]
                for m in system.modems
            ]
    total = sum(len(s) for s in sent)
    print(f"routing: {modems} virtual modems on 2 agents, {count} messages queued")
    print(f"  posted in {posted:.2f} s; run {elapsed:.1f} s; {rounds} dispatcher rounds")
    print(f"  segments per modem: {[len(s) for s in sent]}")
    if expected:
        ratio = total / expected
        print(
            f"  paced at {rate}/min each: sent {total} of {expected} allowed "
            f"({modems} × {rate} × {windows} min) = {ratio:.1%}"
        )
        worst = max(most_in_a_minute(s) for s in sent)
        print(f"  most segments one modem sent in any 60 s: {worst} (limit {rate})")
    else:
        print(f"  unpaced: {total} segments in {elapsed:.2f} s = {total / elapsed:.1f}/s")
    if planned:
        print(
            f"  dispatcher rounds (queries + plan + record, wall): {wall * 1000:.0f} ms for "
            f"{planned} messages = {wall / planned * 1e3:.2f} ms per message, "
            f"{wall / max(1, rounds) * 1e3:.2f} ms per round"
        )
        print(
            f"  planner alone: {planning * 1000:.1f} ms = {planning / planned * 1e6:.0f} µs "
            "per message routed"
        )
    synthetic()


def synthetic() -> None:
    """The planner alone on a big round: 2,000 queued messages, 16 lines."""
    from server.routing.planner import AccountRoute, LineState, Waiting, plan

    now = dt.datetime.now(dt.UTC)
    lines = [
        LineState(key=f"a/{n}", account_id=1, kind="smstools", position=n + 1, per_minute=60)
        for n in range(16)
    ]
    queue = [
        Waiting(id=f"m{i}", account_id=1, peer=f"+42077700{i % 500:04d}", parts=1 + i % 3)
        for i in range(2000)
    ]
    routes = {1: AccountRoute(account_id=1)}
    rounds = 20
    started = time.process_time()
    for _ in range(rounds):
        result = plan(lines, queue, routes, now)
    cpu = (time.process_time() - started) / rounds
    print(
        f"  planner, synthetic round of 2,000 queued messages on 16 lines: {cpu * 1000:.1f} ms "
        f"CPU ({cpu / len(queue) * 1e6:.1f} µs per queued message, "
        f"{len(result.assign)} assigned)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--modems", type=int, default=4)
    parser.add_argument("--rate", type=int, default=20, help="segments per minute per line")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="15 s run")
    args = parser.parse_args()
    if args.quick:
        args.duration = 15.0
    asyncio.run(run(args.modems, args.rate, args.duration, args.messages))


if __name__ == "__main__":
    main()
