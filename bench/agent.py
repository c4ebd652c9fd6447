"""The agent's footprint beside one modem line, and the server's when nothing happens.

    .venv/bin/python bench/agent.py [--idle 30] [--messages 100]

sms-server and sms-agent run as processes (the README's way, SQLite), the virtual modem
in this one, one `modem` account. Prints, from /proc: the agent's resident memory (now
and its peak), its CPU per minute while idle and for sending the messages, and the
server's CPU per minute while idle. CPU is the processes' own user+system time, so other
work on the machine does not count; idle figures are scaled from the `--idle` window.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.modem.virtual import VirtualModem  # noqa: E402
from agent.modem.virtual_core import VirtualConfig  # noqa: E402
from bench.bridge import start_modem_agent, start_server  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


async def idle_cpu(pids: list[int], seconds: float) -> list[float]:
    """CPU ms per minute of each process over `seconds` of doing nothing."""
    before = [cpu_seconds(pid) for pid in pids]
    await asyncio.sleep(seconds)  # the measurement window itself, not a wait for an event
    after = [cpu_seconds(pid) for pid in pids]
    return [(a - b) * 1000 * 60 / seconds for a, b in zip(after, before, strict=True)]


async def bench(idle: float, messages: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        link = str(tmp / "gsmmodem0")
        modem = VirtualModem(VirtualConfig(), link=link)
        modem.start()
        server, http, port = await start_server(tmp)
        agent = None
        try:
            agent = await start_modem_agent(http, tmp, port, link)
            assert agent.proc and server.proc
            apid, spid = agent.proc.pid, server.proc.pid
            agent_idle, server_idle = await idle_cpu([apid, spid], idle)
            rss, peak = memory_mb(apid)
            print(f"agent, one modem line, idle: RSS {rss:.1f} MB (peak {peak:.1f} MB)")
            print(f"agent idle CPU:  {agent_idle:7.1f} ms per minute (over {idle:.0f} s)")
            print(f"server idle CPU: {server_idle:7.1f} ms per minute (over {idle:.0f} s)")

            before = cpu_seconds(apid)
            base = len(modem.submissions)
            t0 = time.monotonic()
            for i in range(messages):
                r = await http.post("/api/messages", json={"to": "+420774884138", "text": f"m{i}"})
                r.raise_for_status()
            await asyncio.to_thread(
                modem.wait_for, lambda m: len(m.submissions) >= base + messages, 300
            )
            elapsed = time.monotonic() - t0
            used = (cpu_seconds(apid) - before) * 1000
            rss, peak = memory_mb(apid)
            print(
                f"agent sending {messages} messages: {used:.0f} ms CPU "
                f"({used / messages:.2f} ms per message) in {elapsed:.1f} s; "
                f"RSS {rss:.1f} MB (peak {peak:.1f} MB)"
            )
        finally:
            if agent:
                agent.stop()
            server.stop()
            await http.aclose()
            modem.stop()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--idle", type=float, default=30, help="idle window, s (default 30)")
    parser.add_argument("--messages", type=int, default=100, help="messages to send (100)")
    args = parser.parse_args()
    asyncio.run(bench(args.idle, args.messages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
