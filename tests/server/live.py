"""A real `sms-server` process for the tests that need one (start-up, schemathesis)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Live:
    url: str
    token: str | None  # the admin token the server printed, if it printed one


def _wait_until_listening(proc: subprocess.Popen[str]) -> Live:
    """Read stderr until uvicorn says where it listens (port 0: the OS chose) and an app
    has started (with --workers, the parent binds first and the workers start after)."""
    assert proc.stderr is not None
    token = url = None
    started = False
    for line in proc.stderr:
        if "created user 'admin' with token" in line:
            token = line.rsplit(" ", 1)[1].strip()
        if not line.startswith("{"):
            continue
        msg = json.loads(line)["msg"]
        if "Uvicorn running on" in msg:
            url = msg.split("running on ")[1].split(" ")[0]
        started = started or msg == "Application startup complete."
        if url and started:
            return Live(url, token)
    raise AssertionError(f"sms-server exited with {proc.wait()} before listening")


@contextlib.contextmanager
def sms_server(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Live]:
    """Run `sms-server --port 0 ARGS` in `cwd`; stop it with SIGTERM and expect exit 0."""
    environ = {k: v for k, v in os.environ.items() if k != "SMSBRIDGE_ADMIN_TOKEN"}
    environ["PYTHONPATH"] = str(ROOT)
    environ.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "--port", "0", *args],
        cwd=cwd,
        env=environ,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield _wait_until_listening(proc)
    finally:
        proc.terminate()
        code = proc.wait(timeout=30)
        assert proc.stderr is not None
        proc.stderr.close()
    assert code == 0, f"sms-server exited with {code}"
