"""`sms-agent run` and `sms-agent status`: the agent process and its health check."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from datetime import UTC, datetime
from typing import Any

from agent.config import ConfigError, load_config

DEFAULT_CONFIG = "/etc/smsbridge/agent.toml"

RUN_HELP = """\
Run the agent: connect to the server named in agent.toml, receive the configuration of
this agent's lines (modems, smstools3 spools, SMSLib tables), send the jobs the server
gives it and report what happens. Jobs and events are kept in <state_dir>/outbox.sqlite
until the other side has them, so nothing is lost when the server or the network is away.
Stop with Ctrl-C or SIGTERM.
"""

STATUS_HELP = """\
Ask the running agent (over its local socket, <state_dir>/agent.sock) how it is: the
connection to the server, each line with its modem status or spool health, the outbox
depth and the last error. Exit code 0 when connected, 1 when not, 2 when no agent runs.
"""


def register(sub: Any) -> None:
    run = sub.add_parser(
        "run",
        help="run the agent (connects to the server, drives the lines)",
        description=RUN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--config", default=DEFAULT_CONFIG, help=f"default {DEFAULT_CONFIG}")
    run.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    run.set_defaults(handler=run_agent)

    status = sub.add_parser(
        "status",
        help="show the running agent's connection, lines and outbox",
        description=STATUS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--config", default=DEFAULT_CONFIG, help=f"default {DEFAULT_CONFIG}")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=show_status)


def run_agent(args: argparse.Namespace) -> int:
    from agent.bridge.runtime import Agent
    from agent.bridge.status_socket import serve_status
    from agent.lines import line_factories

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"sms-agent run: {exc}", file=sys.stderr)
        return 2

    async def main() -> int:
        agent = Agent(config, line_factories(config.state_path))
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(agent.run())
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        async with serve_status(config.socket_path, agent.snapshot):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        agent.outbox.close()
        if agent.last_error and not task.cancelled():
            print(f"sms-agent run: stopped: {agent.last_error}", file=sys.stderr)
            return 1
        return 0

    return asyncio.run(main())


def show_status(args: argparse.Namespace) -> int:
    from agent.bridge.status_socket import read_status

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"sms-agent status: {exc}", file=sys.stderr)
        return 2
    try:
        status = read_status(config.socket_path)
    except OSError as exc:
        print(
            f"sms-agent status: no agent answers on {config.socket_path} "
            f"({exc.strerror or exc}); is `sms-agent run` running?",
            file=sys.stderr,
        )
        return 2
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(format_status(status))
    return 0 if status.get("connected") else 1


def _care(line: dict[str, Any]) -> list[str]:
    """A modem line's recovery and balance, under its row, when there is news."""
    out = []
    if line.get("rung") not in (None, "ok"):
        out.append(f"{'':<16}recovery: {line.get('recovery') or line['rung']}")
    if line.get("resets_today"):
        out.append(f"{'':<16}resets today: {line['resets_today']}, last {line.get('last_reset')}")
    if line.get("balance") is not None:
        low = "  LOW" if line.get("balance_low") else ""
        out.append(f"{'':<16}balance: {line['balance']} at {line.get('balance_at')}{low}")
    return out


def format_status(status: dict[str, Any]) -> str:
    since = status.get("connected_since")
    conn = (
        f"connected since {datetime.fromtimestamp(since, UTC):%Y-%m-%d %H:%M:%S} UTC"
        if status.get("connected") and since
        else "NOT CONNECTED"
    )
    jobs = status["outbox"]["jobs"]
    lines = [
        f"agent   {status['agent']}",
        f"server  {status['server']}  {conn}",
        f"outbox  {jobs.get('stored', 0)} jobs waiting, {jobs.get('handed', 0)} with a device, "
        f"{status['outbox']['events']} events not yet acknowledged",
    ]
    if status.get("last_error"):
        lines.append(f"error   {status['last_error']}")
    lines.append("")
    lines.append(f"{'LINE':<16}{'STATE':<7}{'SIGNAL':<16}{'NETWORK':<22}{'QUEUE':>6}  DETAIL")
    for line in status.get("lines", []):
        modem = line.get("modem") or {}
        signal_text = ""
        if modem.get("signal_dbm") is not None:
            bars = modem.get("signal_bars") or 0
            signal_text = f"{'▮' * bars}{'▯' * (5 - bars)} {modem['signal_dbm']} dBm"
        network = " ".join(x for x in (modem.get("registration"), modem.get("operator")) if x)
        detail = line.get("last_error") or line.get("detail") or ""
        lines.append(
            f"{line['line']:<16}{'up' if line['up'] else 'DOWN':<7}{signal_text:<16}"
            f"{network:<22}{line.get('queue', 0):>6}  {detail}"
        )
        lines.extend(_care(line))
    if not status.get("lines"):
        lines.append("(no lines: the server has not configured any for this agent)")
    return "\n".join(lines)
