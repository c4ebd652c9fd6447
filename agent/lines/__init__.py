"""The lines this agent runs, by gateway id: adapters from each device's own interface
(agent/modem, agent/spool) to the bridge's Line (agent/bridge/lines.py).

- modem.py, modem_care.py   a GSM modem (AT driver or libgammu) as a line, and its care
                            (recovery ladder, balance, calls)
- spool.py                  smstools3 spools and SMSLib tables as lines

May import: agent/bridge, agent/modem, agent/spool, bridge/, sms/. Nothing imports this
folder but agent/commands (it is where the halves meet).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from agent.bridge.lines import Line
from agent.bridge.supervisor import LineFactory
from bridge import protocol as p


def line_factories(state_dir: Path) -> Mapping[str, LineFactory]:
    """Each factory imports its line's module when a line of that kind is first made, so
    an agent with only a modem line never loads SQLAlchemy (SMSLib) or watchdog
    (smstools3): a few MB of resident memory each on a small modem host."""

    def modem(push: p.ConfigPush) -> Line:
        from .modem import modem_line

        return modem_line(push, state_dir)

    def gammu(push: p.ConfigPush) -> Line:
        from .modem import gammu_line

        return gammu_line(push)

    def smstools(push: p.ConfigPush) -> Line:
        from .spool import smstools_line

        return smstools_line(push, state_dir)

    def smslib(push: p.ConfigPush) -> Line:
        from .spool import smslib_line

        return smslib_line(push, state_dir)

    return {"modem": modem, "gammu": gammu, "smstools": smstools, "smslib": smslib}
