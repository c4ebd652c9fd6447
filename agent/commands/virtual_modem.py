"""`sms-agent virtual-modem`: the built-in virtual modem on a pseudo-terminal."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from agent.modem.virtual import VirtualModem
from agent.modem.virtual_core import VirtualConfig
from agent.modem.virtual_profiles import VIRTUAL_PROFILES, virtual_config

from .output import print_json

HELP = """\
Start a virtual GSM modem on a pseudo-terminal and print its device path. Point
an account's `device` (or smsd, or gammu) at it to try sending and receiving with
no hardware. It keeps running until Ctrl-C.

While it runs, type on its standard input:
  sms NUMBER TEXT     an SMS arrives from NUMBER (stored on the SIM, +CMTI)
  unplug | replug     the USB cable is pulled / plugged back (the modem reboots)
  hang [sms|total|forever]   the modem stops answering (see --help of hang below)
  call NUMBER         an incoming voice call (RING, +CLIP) until hung up
  sent                list the SMS-SUBMITs it accepted
  quit

examples:
  sms-agent virtual-modem --link /tmp/gsmmodem0
  sms-agent virtual-modem --pin 1234 --huawei --cmgs-delay 2
  sms-agent virtual-modem --profile quectel-ec25 --ussd '*101#=Vas kredit je 80 Kc'
  sms-agent send /tmp/gsmmodem0 +420777123456 'Hello'
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "virtual-modem",
        help="start the built-in virtual modem and print its device path",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--link", metavar="PATH", help="also reachable as PATH (kept across replug)")
    p.add_argument("--pin", help="SIM PIN the modem asks for (default: none)")
    p.add_argument("--no-sim", action="store_true", help="no SIM card inserted")
    p.add_argument("--cmgs-delay", type=float, default=0.0, metavar="S", help="delay of +CMGS")
    p.add_argument(
        "--report-delay",
        type=float,
        default=0.0,
        metavar="S",
        help="delay of status reports after +CMGS",
    )
    p.add_argument(
        "--cms-error-rate",
        type=float,
        default=0.0,
        metavar="F",
        help="fraction of sends answered +CMS ERROR (0..1)",
    )
    p.add_argument("--cms-error-code", type=int, default=500, metavar="N")
    p.add_argument("--storage", type=int, default=20, metavar="N", help="SIM storage slots")
    p.add_argument("--huawei", action="store_true", help="^RSSI URCs inside responses")
    p.add_argument("--bare-prompt", action="store_true", help="'>' line as prompt (SIM7670G)")
    p.add_argument("--cpin-no-ok", action="store_true", help="AT+CPIN? without OK (Wavecom)")
    p.add_argument("--index0", action="store_true", help="storage indices from 0 (Huawei)")
    p.add_argument(
        "--ussd",
        action="append",
        default=[],
        metavar="CODE=ANSWER",
        help="the network's answer to a USSD code (repeatable), e.g. '*101#=Vas kredit je 80 Kc'",
    )
    p.add_argument(
        "--ussd-form",
        choices=("text", "ucs2", "gsm7hex"),
        default="text",
        help="how the modem returns USSD answers (default text)",
    )
    p.add_argument(
        "--profile",
        choices=sorted(VIRTUAL_PROFILES),
        help="play a real modem family (identity, URCs, reset and hang-up commands, USSD form)",
    )
    p.add_argument("--json", action="store_true", help='print {"device": PATH} as JSON')
    p.set_defaults(handler=run)


def config_of(args: argparse.Namespace) -> VirtualConfig:
    if getattr(args, "profile", None):
        return virtual_config(
            args.profile,
            pin=args.pin,
            no_sim=args.no_sim,
            cmgs_delay=args.cmgs_delay,
            report_delay=args.report_delay,
            storage_size=args.storage,
            ussd=dict(item.split("=", 1) for item in args.ussd if "=" in item),
        )
    return VirtualConfig(
        pin=args.pin,
        no_sim=args.no_sim,
        cmgs_delay=args.cmgs_delay,
        report_delay=args.report_delay,
        cms_error_rate=args.cms_error_rate,
        cms_error_code=args.cms_error_code,
        storage_size=args.storage,
        huawei_rssi=args.huawei,
        manufacturer="huawei" if args.huawei else "smsbridge",
        bare_prompt=args.bare_prompt,
        cpin_no_ok=args.cpin_no_ok,
        index0=args.index0,
        ussd=dict(item.split("=", 1) for item in args.ussd if "=" in item),
        ussd_encoding=args.ussd_form,
    )


def _control(modem: VirtualModem, line: str) -> bool:
    words = line.strip().split(maxsplit=2)
    if not words:
        return True
    if words[0] == "sms" and len(words) == 3:
        modem.deliver(words[1], words[2])
    elif words[0] == "unplug":
        modem.unplug()
    elif words[0] == "replug":
        print(modem.replug(), flush=True)
    elif words[0] == "hang":
        modem.hang(words[1] if len(words) > 1 else "sms")
    elif words[0] == "call" and len(words) == 2:
        modem.call(words[1])
    elif words[0] == "sent":
        for sub in modem.submissions:
            print(f"mr={sub.mr} to={sub.submit.recipient} text={sub.submit.text!r}", flush=True)
    elif words[0] == "quit":
        return False
    else:
        print(
            "commands: sms NUMBER TEXT | unplug | replug | hang [MODE] | call NUMBER | sent | quit",
            file=sys.stderr,
        )
    return True


def run(args: argparse.Namespace) -> int:
    modem = VirtualModem(config_of(args), link=args.link)
    path = modem.start()
    if args.json:
        print_json({"device": path})
    else:
        print(path, flush=True)
    try:
        for line in sys.stdin:
            if not _control(modem, line):
                return 0
        threading.Event().wait()  # stdin closed (started in the background): run on
    except KeyboardInterrupt:
        return 0
    finally:
        modem.stop()
    return 0
