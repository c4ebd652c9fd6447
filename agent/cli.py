"""`sms-agent`: the edge agent's command line. Each sub-command lives in agent/commands/."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from agent.commands import modems as modems_command
from agent.commands import pdu as pdu_command
from agent.commands import probe as probe_command
from agent.commands import run as run_command
from agent.commands import send as send_command
from agent.commands import ussd as ussd_command
from agent.commands import virtual_modem as virtual_modem_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sms-agent",
        description=(
            "smsbridge edge agent: drives GSM modems, smstools3 spools and SMSLib tables "
            "beside the modem, and carries jobs and events to and from the central server."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run_command.register(sub)
    pdu_command.register(sub)
    modems_command.register(sub)
    probe_command.register(sub)
    send_command.register(sub)
    ussd_command.register(sub)
    virtual_modem_command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
