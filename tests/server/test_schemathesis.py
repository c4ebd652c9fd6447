"""schemathesis against the running server's /api/openapi.json: no 500s, every status
documented, every response matching its schema, unknown fields refused, auth enforced."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.live import sms_server

CONFIG = Path(__file__).with_name("schemathesis.toml")
TOKEN = "sbu_schemathesis-admin-0123456789"
# Fixed seed and a small budget: the same cases every run, well under a minute.
ARGS = ["--checks", "all", "--max-examples", "10", "--seed", "20261126", "--no-color"]


def schemathesis() -> list[str]:
    found = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    if not Path(found).exists():
        pytest.skip("schemathesis is not installed (pip install schemathesis)")
    return [found]


def test_api_conforms_to_its_openapi_document(tmp_path: Path) -> None:
    command = schemathesis()
    with sms_server(tmp_path, env={"SMSBRIDGE_ADMIN_TOKEN": TOKEN}) as live:
        run = subprocess.run(
            [
                *command,
                "--config-file",
                str(CONFIG),
                "run",
                f"{live.url}/api/openapi.json",
                "-H",
                f"Authorization: Bearer {TOKEN}",
                *ARGS,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,  # schemathesis keeps a .schemathesis/ cache in its working directory
        )
    summary = run.stdout[run.stdout.find("SUMMARY") :]
    assert run.returncode == 0, run.stdout[-6000:]
    assert "API Operations:" in summary
    # 18 + PUT /api/users/{name}/password + POST .../token and DELETE of users and agents
    # + GET /api/calls + GET /api/events + 8 under /api/webhooks + DELETE /api/messages/{id}
    # + /api/optouts (3) + POST /api/messages/batch
    assert "Selected: 38/38" in summary
