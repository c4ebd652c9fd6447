"""PDU codec throughput: ours vs python-gsmmodem's, on one fixed corpus.

    .venv/bin/pip install -e '.[bench]'     # python-gsmmodem-new, for this bench only
    .venv/bin/python bench/pdu.py [--messages 10000] [--repeat 3]

Prints messages/s for encode (text → SMS-SUBMIT PDUs, all parts) and decode (every
part's PDU → fields) for both codecs, and the ratio: the best of --repeat rounds in
which the two codecs take turns. The corpus is 10,000 messages
from a fixed seed: plain GSM, GSM with extension characters, Czech (UCS-2), emoji,
1–500 characters, so about half are multipart.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agent.modem.pdu import decode, encode_submit

POOLS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?",
    "abcdefghijklmnopqrstuvwxyz 0123456789 €[]{}|^~\\",
    "abcdefghijklmnopqrstuvwxyz ěščřžýáíéúůďťň",
    "abcdefghijklmnopqrstuvwxyz 😀🎉👍",
]


def corpus(n: int, seed: int = 20261126) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pool = POOLS[i % len(POOLS)]
        length = rng.choice([rng.randint(1, 160), rng.randint(1, 500)])
        number = "+420" + "".join(rng.choice("0123456789") for _ in range(9))
        out.append((number, "".join(rng.choice(pool) for _ in range(length))))
    return out


def timed(run: Callable[[], int]) -> tuple[float, int]:
    """CPU seconds of this process for one run (other work on the machine counts less
    than in wall time), and the run's failures."""
    start = time.process_time()
    failures = run()
    return time.process_time() - start, failures


def best_rates(
    runs: dict[str, Callable[[], int]], count: int, repeat: int
) -> dict[str, tuple[float, int]]:
    """Best of `repeat` runs of each, in items/s, with the failures of the last run.
    The codecs take turns in every round, so a busy spell on a shared machine slows
    both rather than skewing the ratio."""
    best = dict.fromkeys(runs, float("inf"))
    failures = dict.fromkeys(runs, 0)
    for _ in range(repeat):
        for name, run in runs.items():
            seconds, failures[name] = timed(run)
            best[name] = min(best[name], seconds)
    return {name: (count / best[name], failures[name]) for name in runs}


def ours(messages: list[tuple[str, str]], pdus: list[str]) -> tuple[Callable, Callable]:
    def enc() -> int:
        for i, (number, text) in enumerate(messages):
            encode_submit(number, text, report=True, reference=i & 0xFF)
        return 0

    def dec() -> int:
        for pdu in pdus:
            decode(pdu)
        return 0

    return enc, dec


def theirs(messages: list[tuple[str, str]], pdus: list[str]) -> tuple[Callable, Callable]:
    from gsmmodem import pdu as gp

    def enc() -> int:
        failures = 0
        for i, (number, text) in enumerate(messages):
            try:
                gp.encodeSmsSubmitPdu(number, text, reference=i & 0xFF, requestStatusReport=True)
            except Exception:
                failures += 1
        return failures

    def dec() -> int:
        failures = 0
        for pdu in pdus:
            try:
                gp.decodeSmsPdu(pdu)
            except Exception:
                failures += 1
        return failures

    return enc, dec


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    messages = corpus(args.messages)
    per_message = [encode_submit(n, t, report=True, reference=1) for n, t in messages]
    pdus = [p.pdu for parts in per_message for p in parts]
    print(f"corpus: {len(messages)} messages, {len(pdus)} parts (PDUs)")

    results = {"smsbridge": ours(messages, pdus)}
    try:
        results["python-gsmmodem"] = theirs(messages, pdus)
    except ImportError:
        print("python-gsmmodem-new is not installed: pip install -e '.[bench]'")

    encodes = best_rates({n: enc for n, (enc, _) in results.items()}, len(messages), args.repeat)
    decodes = best_rates({n: dec for n, (_, dec) in results.items()}, len(pdus), args.repeat)
    print(f"{'codec':<18}{'encode msg/s':>14}{'decode PDU/s':>14}  failures (enc/dec)")
    for name in results:
        (enc_rate, enc_fail), (dec_rate, dec_fail) = encodes[name], decodes[name]
        print(f"{name:<18}{enc_rate:>14,.0f}{dec_rate:>14,.0f}  {enc_fail}/{dec_fail}")
    if len(results) == 2:
        (oe, _), (te, _) = encodes["smsbridge"], encodes["python-gsmmodem"]
        (od, _), (td, _) = decodes["smsbridge"], decodes["python-gsmmodem"]
        print(f"{'ratio':<18}{oe / te:>13.2f}x{od / td:>13.2f}x  (goal: >= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
