"""`sms-agent modems`: serial ports that answer AT, with vendor, model, IMEI, signal."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import msgspec

from agent.modem.probe import identify_all, serial_ports

from .output import print_json, print_table

HELP = """\
List the serial ports of this machine (USB modems, ACM devices, serial adapters and
udev's /dev/gsmmodem* names), ask each one AT and show those that answer with
manufacturer, model, IMEI, signal and registration. Only harmless queries are sent:
a modem in use by another program is not reconfigured.

Exit status: 0 at least one modem answers, 1 none does.

examples:
  sms-agent modems
  sms-agent modems --all --json
  sms-agent modems --device /tmp/gsmmodem0     (a virtual modem is not a USB port)
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "modems",
        help="list serial modems with vendor, model, IMEI and signal",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--all", action="store_true", help="also list ports that do not answer")
    p.add_argument(
        "--device", action="append", default=[], metavar="PATH", help="also try PATH (repeatable)"
    )
    p.add_argument("--timeout", type=float, default=1.0, metavar="S", help="per command")
    p.add_argument("--json", action="store_true", help="a JSON list")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    ports = asyncio.run(identify_all(serial_ports(args.device), timeout=args.timeout))
    shown = [p for p in ports if p.answers or args.all]
    if args.json:
        print_json([msgspec.structs.asdict(p) for p in shown])
    elif not shown:
        print("no modem answers AT on any serial port (try --all, or --device PATH)")
    else:
        rows = [
            [
                p.device,
                p.manufacturer or (p.usb_vendor or "-"),
                p.model or (p.description or "-"),
                p.imei or "-",
                f"{p.signal_dbm} dBm {p.signal_bars}/5" if p.signal_dbm is not None else "-",
                p.registration or (p.error or "-"),
                p.family or "-",
            ]
            for p in shown
        ]
        print_table(rows, ["DEVICE", "VENDOR", "MODEL", "IMEI", "SIGNAL", "REGISTRATION", "FAMILY"])
    return 0 if any(p.answers for p in ports) else 1
