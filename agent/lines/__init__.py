"""The lines this agent runs, by gateway id: adapters from each device's own interface
(agent/modem, agent/spool) to the bridge's Line (agent/bridge/lines.py)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from agent.bridge.runtime import LineFactory


def line_factories(state_dir: Path) -> Mapping[str, LineFactory]:
    from .modem import gammu_line, modem_line
    from .spool import smslib_line, smstools_line

    return {
        "modem": lambda push: modem_line(push, state_dir),
        "gammu": gammu_line,
        "smstools": lambda push: smstools_line(push, state_dir),
        "smslib": lambda push: smslib_line(push, state_dir),
    }
