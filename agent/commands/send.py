"""`sms-agent send DEVICE NUMBER TEXT`: a test SMS, step by step."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import msgspec

from agent.modem.driver import ATModem
from agent.modem.interface import DeliveryReport, ModemError, Outcome

from .output import fail, print_json
from .probe import add_modem_arguments, config_of

HELP = """\
Send a test SMS through the modem on DEVICE and print each step: opening,
initialising, every part with its message reference (+CMGS), and with --report
the status report(s) from the network.

Exit status: 0 sent (and delivered, with --report), 1 failed, not delivered or
the report did not come in time, 2 the modem cannot be used, 3 outcome unknown
(no answer after the message was handed over: it may have been sent; do not
simply send it again).

examples:
  sms-agent send /dev/gsmmodem0 +420777123456 'Test from smsbridge'
  sms-agent send /dev/ttyUSB2 +420777123456 'Hi' --pin 1234 --report --wait 120
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "send",
        help="send a test SMS and wait for the result",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_modem_arguments(p)
    p.add_argument("number", metavar="NUMBER", help="recipient, e.g. +420777123456")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--report", action="store_true", help="request and wait for status reports")
    p.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds to wait for status reports (default 60)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per step")
    p.set_defaults(handler=run)


class Steps:
    def __init__(self, json: bool) -> None:
        self.json = json

    def __call__(self, step: str, text: str, **data: Any) -> None:
        if self.json:
            print_json({"step": step, **data})
        else:
            print(f"{step:>10}  {text}", flush=True)


async def _send(args: argparse.Namespace, say: Steps) -> int:
    reports: asyncio.Queue[DeliveryReport] = asyncio.Queue()

    async def on_report(report: DeliveryReport) -> None:
        await reports.put(report)

    modem = ATModem(config_of(args), on_report=on_report)
    say("open", f"opening {args.device} and initialising", device=args.device)
    try:
        await modem.open()
        say("ready", f"ready: {modem.manufacturer or 'modem'}", manufacturer=modem.manufacturer)
        result = await modem.send(args.number, args.text, report=args.report, message_id="test")
        for part in result.parts:
            text = f"part {part.part}/{part.parts}: {part.outcome}"
            text += f", message reference {part.mr}" if part.mr is not None else ""
            text += f" ({part.error})" if part.error else ""
            say("part", text, **msgspec.structs.asdict(part))
        if result.outcome is Outcome.UNKNOWN:
            say("unknown", "outcome unknown: it may have been sent; do not resend blindly")
            return 3
        if result.outcome is not Outcome.SENT:
            say("failed", f"not sent: {result.error}", error=result.error)
            return 1
        say("sent", "sent", mrs=result.mrs)
        if not args.report:
            return 0
        return await _wait_reports(args, say, reports, len(result.parts))
    finally:
        await modem.close()


async def _wait_reports(
    args: argparse.Namespace, say: Steps, reports: asyncio.Queue[DeliveryReport], parts: int
) -> int:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + args.wait
    delivered: set[int | None] = set()
    say("waiting", f"waiting up to {args.wait:g} s for status reports")
    while len(delivered) < parts:
        try:
            report = await asyncio.wait_for(reports.get(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            say("timeout", "no (complete) status report in time")
            return 1
        say("report", f"part {report.part}: {report.meaning}", **msgspec.structs.asdict(report))
        if report.final and not report.delivered:
            return 1
        if report.delivered:
            delivered.add(report.part)
    say("delivered", "delivered")
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_send(args, Steps(args.json)))
    except ModemError as exc:
        return fail("send", str(exc), 2)
    finally:
        sys.stdout.flush()
