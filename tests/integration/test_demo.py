"""The README's run command, as real processes: sms-server, the virtual modem and
sms-agent run, wired by scripts/demo.py; one SMS out (delivered) and one reply in."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(
    not (Path(sys.executable).parent / "sms-agent").exists(),
    reason="the project is not installed in this environment (pip install -e .)",
)
def test_the_demo_sends_one_sms_and_receives_one_reply(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts/demo.py"),
            "--once",
            "--dir",
            str(tmp_path / "d"),
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    logs = "".join(
        f"\n--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
        for p in (tmp_path / "d").glob("*.log")
    )
    assert result.returncode == 0, result.stdout + result.stderr + logs
    assert "state: delivered" in result.stdout
    assert "from +420603123456: 'Díky, dorazilo!' (received)" in result.stdout
    assert "line Virtual modem up" in result.stdout
    shutil.rmtree(tmp_path / "d", ignore_errors=True)
