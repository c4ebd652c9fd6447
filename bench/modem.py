"""Benchmark: the AT driver's software overhead per SMS, and parallel modems.

    /work/venv/bin/python bench/modem.py [--sends 200] [--modems 4] [--json]

overhead: from calling send() to the AT+CMGS bytes arriving at the virtual modem's
pty (zero-delay modem), median and p99. throughput: messages per second with one
modem and with N in parallel (each modem answers +CMGS after --cmgs-delay, like a
network round trip); goal: N modems give N times one modem's rate within 5%.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.modem.driver import ATModem
from agent.modem.interface import ModemConfig, Outcome
from agent.modem.virtual import VirtualModem
from agent.modem.virtual_core import VirtualConfig


def config(device: str) -> ModemConfig:
    return ModemConfig(device=device, poll_incoming=False, command_timeout=5.0)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def overhead(sends: int, folder: str) -> dict[str, float]:
    vm = VirtualModem(VirtualConfig(), link=f"{folder}/overhead")
    vm.start()
    modem = ATModem(config(vm.path))
    await modem.open()
    samples: list[float] = []
    try:
        for i in range(sends):
            seen = len(vm.log)
            start = time.monotonic()
            result = await modem.send("+420777123456", f"benchmark {i}")
            assert result.outcome is Outcome.SENT, result
            arrival = next(
                e.time for e in vm.log[seen:] if e.direction == "rx" and b"AT+CMGS=" in e.data
            )
            samples.append((arrival - start) * 1000)
    finally:
        await modem.close()
        vm.stop()
    return {
        "sends": sends,
        "median_ms": round(statistics.median(samples), 3),
        "p99_ms": round(percentile(samples, 99), 3),
        "max_ms": round(max(samples), 3),
    }


async def rate(modems: int, per_modem: int, delay: float, folder: str) -> float:
    vms = [
        VirtualModem(VirtualConfig(cmgs_delay=delay), link=f"{folder}/rate{modems}-{i}")
        for i in range(modems)
    ]
    for vm in vms:
        vm.start()
    drivers = [ATModem(config(vm.path)) for vm in vms]
    await asyncio.gather(*(d.open() for d in drivers))

    async def run(driver: ATModem) -> None:
        for i in range(per_modem):
            result = await driver.send("+420777123456", f"rate {i}")
            assert result.outcome is Outcome.SENT, result

    try:
        start = time.monotonic()
        await asyncio.gather(*(run(d) for d in drivers))
        elapsed = time.monotonic() - start
    finally:
        for driver in drivers:
            await driver.close()
        for vm in vms:
            vm.stop()
    return modems * per_modem / elapsed


async def main(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        result: dict[str, object] = {"overhead": await overhead(args.sends, folder)}
        one = await rate(1, args.per_modem, args.cmgs_delay, folder)
        many = await rate(args.modems, args.per_modem, args.cmgs_delay, folder)
    result["throughput"] = {
        "cmgs_delay_s": args.cmgs_delay,
        "per_modem": args.per_modem,
        "one_modem_per_s": round(one, 2),
        "modems": args.modems,
        "n_modems_per_s": round(many, 2),
        "scaling": round(many / (one * args.modems), 3),  # 1.0 = perfect
    }
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sends", type=int, default=200)
    parser.add_argument("--modems", type=int, default=4)
    parser.add_argument("--per-modem", type=int, default=20)
    parser.add_argument("--cmgs-delay", type=float, default=0.05)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    outcome = asyncio.run(main(args))
    if args.json:
        print(msgspec.json.encode(outcome).decode())
    else:
        for section, values in outcome.items():
            print(section)
            for key, value in values.items():  # type: ignore[attr-defined]
                print(f"  {key:16} {value}")
