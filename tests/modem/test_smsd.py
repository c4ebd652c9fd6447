"""Debian's real smsd (smstools3) sends and receives through the virtual modem.

This is how we know the virtual modem behaves like a modem: a program we did not
write drives it with its own init, prompt handling and storage polling.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.peer("smsd")

SPOOLS = ("outgoing", "checked", "incoming", "sent", "failed", "report")


def smsd_config(root: Path, device: str) -> Path:
    for name in SPOOLS:
        (root / name).mkdir()
    spools = "\n".join(f"{name} = {root / name}" for name in SPOOLS)
    config = root / "smsd.conf"
    config.write_text(
        f"devices = GSM1\n{spools}\n"
        f"logfile = {root / 'smsd.log'}\ninfofile = {root / 'smsd.info'}\n"
        f"pidfile = {root / 'smsd.pid'}\nloglevel = 7\n"
        "delaytime = 1\ndelaytime_mainprocess = 1\n\n"
        f"[GSM1]\ndevice = {device}\nincoming = yes\nbaudrate = 115200\n"
        "report = yes\ninit = AT+CNMI=2,1,0,1,0\n"
    )
    return config


def wait_for_file(folder: Path, timeout: float = 30.0) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.iterdir())
        if files:
            return files[0]
        time.sleep(0.1)  # smsd writes files on its own schedule: poll the folder
    raise TimeoutError(f"nothing appeared in {folder}")


def test_smsd_sends_and_receives_through_the_virtual_modem(virtual, tmp_path: Path) -> None:
    vm = virtual()
    config = smsd_config(tmp_path, vm.path)
    (tmp_path / "outgoing" / "msg1").write_text(
        "To: 420777123456\nReport: yes\n\nHello from smsd\n"
    )
    vm.deliver("+420111222333", "Ahoj smsd, žluťoučký kůň")
    smsd = subprocess.Popen(
        ["/usr/sbin/smsd", "-t", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        [submission] = vm.wait_for(lambda m: m.submissions, timeout=30)
        assert submission.submit.text == "Hello from smsd"
        assert submission.submit.recipient == "+420777123456"  # smsd: international
        assert submission.submit.report_requested
        assert "Message_id: 1" in wait_for_file(tmp_path / "sent").read_text()

        incoming = wait_for_file(tmp_path / "incoming").read_bytes()
        assert b"From: 420111222333" in incoming
        assert "Ahoj smsd, žluťoučký kůň".encode("utf-16-be") in incoming or (
            "Ahoj smsd, žluťoučký kůň".encode() in incoming
        )
        vm.wait_for(lambda m: not m.core.memories["SM"], timeout=10)  # smsd deleted it

        report = wait_for_file(tmp_path / "report").read_text()
        assert "Message_id: 1" in report and "Status: 0" in report
    finally:
        smsd.terminate()
        smsd.wait(timeout=15)
