"""POST /api/messages/batch: how long 1,000 messages take to be accepted (every item
committed before the answer), against a real server process.

    python bench/batch.py                   # SQLite and PostgreSQL, 5 batches each
    python bench/batch.py --db sqlite --batches 3 --size 1000

The server is bench/server.py's: its own process (uvicorn, one worker), every gateway an
in-memory sink, so what is measured is the API, the checks (numbers, opt-outs) and the
database. Each batch has distinct numbers (one of them opted out) and one bad number, so
the per-item path is the real one. Columns: the seconds per batch (best, median, worst),
items accepted per batch, and stored = every message in the database afterwards.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_spec = importlib.util.spec_from_file_location("bench.server", ROOT / "bench" / "server.py")
assert _spec is not None and _spec.loader is not None
bench_server = importlib.util.module_from_spec(_spec)
sys.modules["bench.server"] = bench_server
_spec.loader.exec_module(bench_server)


def batch(run: int, size: int) -> dict[str, object]:
    items: list[dict[str, object]] = [
        {"to": f"+420601{run:03d}{i:03d}", "key": f"r{run}-{i}"} for i in range(size - 1)
    ]
    items.append({"to": "not a number"})
    return {"defaults": {"text": f"Bench batch {run}: your code is 1234"}, "messages": items}


def bench(kind: str, batches: int, size: int) -> tuple[list[float], list[int], int]:
    make_db = bench_server.sqlite_db if kind == "sqlite" else bench_server.postgres_db
    with make_db() as (db, tmp), bench_server.server_process(db, tmp, 1) as (port, _):
        headers = {"Authorization": f"Bearer {bench_server.TOKEN}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as c:
            for i in range(5):  # one opted-out number in each of the first five batches
                r = c.post("/api/optouts", json={"number": f"+420601{i + 1:03d}{i * 100:03d}"})
                r.raise_for_status()
            c.post("/api/messages/batch", json=batch(0, 20)).raise_for_status()  # warm-up
            seconds, accepted = [], []
            for run in range(1, batches + 1):
                body = batch(run, size)
                started = time.perf_counter()
                r = c.post("/api/messages/batch", json=body)
                seconds.append(time.perf_counter() - started)
                r.raise_for_status()
                accepted.append(int(r.json()["accepted"]))
        stored = bench_server.run_loop(lambda: bench_server.count_messages(db))
    return seconds, accepted, int(stored)  # type: ignore[call-overload]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"{'db':<11} {'items':>5} {'best s':>7} {'median s':>8} {'worst s':>7} "
          f"{'accepted':>8} {'stored':>7}")  # fmt: skip
    for kind in kinds:
        seconds, accepted, stored = bench(kind, args.batches, args.size)
        print(
            f"{kind:<11} {args.size:>5} {min(seconds):>7.3f} {statistics.median(seconds):>8.3f}"
            f" {max(seconds):>7.3f} {min(accepted):>8} {stored:>7}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
