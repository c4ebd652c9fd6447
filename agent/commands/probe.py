"""`sms-agent probe DEVICE`: the full status of one modem and what is wrong with it."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from agent.modem.driver import ATModem
from agent.modem.interface import ModemConfig, ModemError
from agent.modem.status import ModemStatus

from .output import fail, print_fields, print_json

HELP = """\
Open the modem on DEVICE, initialise it as the agent would (echo off, PDU mode,
SIM PIN when --pin is given) and print manufacturer, model, firmware, IMEI, IMSI,
SIM state, registration, operator, signal, SMSC and SMS storage, then what is
wrong in plain words. Stored messages are left alone.

Exit status: 0 healthy, 1 something is wrong (listed), 2 the modem cannot be used.

examples:
  sms-agent probe /dev/gsmmodem0
  sms-agent probe /dev/ttyUSB2 --pin 1234 --json
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "probe",
        help="print the full status of one modem and what is wrong",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_modem_arguments(p)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(handler=run)


def add_modem_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("device", metavar="DEVICE", help="serial port, e.g. /dev/gsmmodem0")
    p.add_argument("--baud", type=int, default=115200, help="speed (default 115200)")
    p.add_argument("--pin", help="SIM PIN, when the SIM asks for one")
    p.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to wait for each command (default 5)",
    )


def config_of(args: argparse.Namespace, **extra: Any) -> ModemConfig:
    return ModemConfig(
        device=args.device,
        baudrate=args.baud,
        pin=args.pin,
        command_timeout=args.timeout,
        poll_incoming=False,
        **extra,
    )


def show(status: ModemStatus) -> None:
    signal = (
        f"{status.signal_dbm} dBm, {status.signal_bars}/5 bars ({status.signal_text})"
        if status.signal_dbm is not None
        else "unknown"
    )
    storage = (
        f"{status.storage} {status.storage_used}/{status.storage_total}"
        if status.storage_total
        else None
    )
    print_fields(
        [
            ("device", status.device),
            ("family", status.family),
            ("manufacturer", status.manufacturer),
            ("model", status.model),
            ("firmware", status.firmware),
            ("IMEI", status.imei),
            ("IMSI", status.imsi),
            ("SIM", status.sim),
            ("registration", status.registration_text),
            ("operator", status.operator),
            ("signal", signal),
            ("SMSC", status.smsc),
            ("storage", storage),
        ]
    )
    print()
    if status.problems:
        print("problems:")
        for problem in status.problems:
            print(f"  - {problem}")
    else:
        print("healthy")


async def _probe(args: argparse.Namespace) -> ModemStatus:
    modem = ATModem(config_of(args))
    try:
        await modem.open()
        return await modem.status()
    finally:
        await modem.close()


def run(args: argparse.Namespace) -> int:
    try:
        status = asyncio.run(_probe(args))
    except ModemError as exc:
        if args.json:
            print_json({"device": args.device, "problems": [str(exc)], "healthy": False})
        return fail("probe", str(exc), 2)
    if args.json:
        print_json({**_as_dict(status), "healthy": status.healthy})
    else:
        show(status)
    return 0 if status.healthy else 1


def _as_dict(status: ModemStatus) -> dict[str, Any]:
    import msgspec

    return msgspec.structs.asdict(status)
