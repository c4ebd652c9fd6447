"""An agent with only modem lines loads neither SQLAlchemy (SMSLib lines) nor watchdog
(smstools3 lines): on a small modem host that is a third of its memory (bench/agent.py)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from bridge import protocol  # noqa: F401
from agent.bridge.runtime import Agent  # noqa: F401
from agent.commands import run  # noqa: F401
from agent.lines import line_factories
from bridge.protocol import ConfigPush
from agent.bridge.allow_list import refusals

push = ConfigPush(line="GSM1", gateway="modem", config={"device": "/dev/gsmmodem0"})
assert refusals("modem", push.config, ["/dev/gsmmodem*"]) == []
line_factories(__import__("pathlib").Path("/tmp"))["modem"](push)
print(",".join(m for m in ("sqlalchemy", "watchdog") if m in sys.modules))
"""


def test_a_modem_only_agent_loads_no_sqlalchemy_and_no_watchdog() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "", f"loaded: {out.stdout.strip()}"
