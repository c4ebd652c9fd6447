"""Debian's smsd 3.1.21 run in the foreground (`-t`) with a generated smsd.conf whose
spool directories live under one root; its modem is a tests/spool/fake_modem.FakeModem.
Delays are 1 s (smsd polls its outgoing directory and the modem)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from agent.spool.smstools_line import SmstoolsConfig
from tests.spool.fake_modem import FakeModem

SMSD = "/usr/sbin/smsd"


class Smsd:
    def __init__(self, root: Path, modem: FakeModem, *, queue: str | None = None) -> None:
        """With `queue`, smsd.conf gets a `[queues]` section with that one queue, which
        modem GSM1 serves (the way a site pins messages to a modem, docs/smstools3.md §6)."""
        self.root = root
        self.modem = modem
        for d in ("outgoing", "checked", "sent", "failed", "incoming", "pdu", "state"):
            (root / d).mkdir()
        queues = serves = ""
        if queue:
            serves = f"queues = {queue}\n"
            (root / queue).mkdir()
            queues = f"\n[queues]\n{queue} = {root}/{queue}\n"
        self.log = root / "smsd.log"
        (root / "smsd.conf").write_text(
            f"""devices = GSM1
logfile = {self.log}
loglevel = 7
outgoing = {root}/outgoing
checked = {root}/checked
incoming = {root}/incoming
sent = {root}/sent
failed = {root}/failed
pidfile = {root}/smsd.pid
infofile = {root}/smsd.info
delaytime = 1
delaytime_mainprocess = 1
errorsleeptime = 1
{queues}
[GSM1]
device = {modem.device}
{serves}incoming = yes
send_retries = 1
pdu_from_file = {root}/pdu/
"""
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [SMSD, "-c", str(self.root / "smsd.conf"), "-t"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def feed(self, name: str, pdu: str) -> None:
        """smsd reads one PDU per file from `pdu_from_file` and deletes it."""
        tmp = self.root / "pdu" / f".{name}"
        tmp.write_text(pdu + "\n")
        os.rename(tmp, self.root / "pdu" / name)

    def config(self, **kw: object) -> SmstoolsConfig:
        values: dict[str, object] = {
            "in": str(self.root / "incoming"),
            "out": str(self.root / "outgoing"),
            "sent": str(self.root / "sent"),
            "failed": str(self.root / "failed"),
            "state_dir": str(self.root / "state"),
            "settle_seconds": 1.0,
        }
        values.update(kw)
        return SmstoolsConfig.from_account(values)

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])
        except FileNotFoundError:
            return "(no smsd log)"
