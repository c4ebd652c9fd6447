"""`sms-agent ussd DEVICE CODE`: ask the network (e.g. the SIM's credit with *101#)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from agent.modem.driver import ATModem
from agent.modem.interface import ModemError
from agent.modem.ussd import USSDAnswer, USSDError, check_code

from .output import fail, print_json
from .probe import add_modem_arguments, config_of

HELP = """\
Open the modem on DEVICE, send the USSD code CODE (e.g. *101# for the credit on
most Czech SIMs) and print the network's answer, decoded from whichever form the
modem gives (plain text, UCS-2 hex, packed GSM 7-bit hex).

Exit status: 0 answered, 1 the network did not answer or refused, 2 the modem
cannot be used.

examples:
  sms-agent ussd /dev/gsmmodem0 '*101#'
  sms-agent ussd /dev/ttyUSB2 '*101#' --pin 1234 --json
  sms-agent ussd /dev/ttyUSB0 '*101#' --packed      # Huawei sticks that want it so
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ussd",
        help="send a USSD code (e.g. *101#) and print the network's answer",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_modem_arguments(p)
    p.add_argument("code", metavar="CODE", help="the USSD code, e.g. *101#")
    p.add_argument("--packed", action="store_true", help="send the code as packed GSM 7-bit hex")
    p.add_argument(
        "--wait", type=float, default=30.0, metavar="S", help="seconds for the answer (30)"
    )
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(handler=run)


async def _ussd(args: argparse.Namespace) -> USSDAnswer:
    modem = ATModem(config_of(args, ussd_packed=True if args.packed else None))
    try:
        await modem.open()
        return await modem.ussd(args.code, timeout=args.wait)
    finally:
        await modem.close()


def run(args: argparse.Namespace) -> int:
    try:
        check_code(args.code)
        answer = asyncio.run(_ussd(args))
    except ModemError as exc:
        return fail("ussd", str(exc), 2)
    except USSDError as exc:
        if args.json:
            print_json({"device": args.device, "code": args.code, "error": str(exc)})
        return fail("ussd", str(exc), 1)
    if args.json:
        print_json(
            {
                "device": args.device,
                "code": args.code,
                "status": answer.status,
                "status_text": answer.status_word,
                "text": answer.text,
                "dcs": answer.dcs,
                "raw": answer.raw,
            }
        )
    else:
        print(answer.text or f"({answer.status_word})")
    return 0 if answer.status in (0, 1) else 1
