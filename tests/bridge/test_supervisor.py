"""agent/bridge/supervisor.py: which pushes start a line, and that the same push again
leaves a running line alone while a changed one restarts it."""

from __future__ import annotations

from pathlib import Path

from agent.bridge.outbox import Outbox
from agent.bridge.supervisor import LineSupervisor
from bridge import protocol as p

from .test_bridge_live import ScriptedLine


class Context:
    async def emit(self, event: p.Event) -> p.Event:
        return event

    async def add_part(self, key: str, seq: int, total: int, body: bytes) -> None:
        return None

    async def complete_parts(self, key: str, event: p.Event) -> p.Event:
        return event

    def status_changed(self, line: str) -> None:
        pass


def push(device: str = "/dev/gsmmodem0", gateway: str = "modem") -> p.ConfigPush:
    return p.ConfigPush(line="GSM1", gateway=gateway, config={"device": device})  # type: ignore[arg-type]


async def test_the_supervisor_starts_restarts_and_refuses(tmp_path: Path) -> None:
    made: list[ScriptedLine] = []

    def modem(push: p.ConfigPush) -> ScriptedLine:
        if push.config["device"] == "/dev/gsmmodem9":
            raise ValueError("baudrate = fast: a number of bits per second")
        made.append(ScriptedLine(push.line, push.config))
        return made[-1]

    outbox = Outbox(tmp_path / "o.sqlite")
    lines = LineSupervisor(["/dev/gsmmodem*"], {"modem": modem}, outbox, Context(), print)
    try:
        assert await lines.start(push()) is None
        assert await lines.start(push()) is None and len(made) == 1  # the same: untouched
        assert await lines.start(push("/dev/gsmmodem1")) is None and len(made) == 2
        assert lines.workers["GSM1"].line is made[1]

        refused = await lines.start(push("/etc/shadow"))
        assert refused is not None and "/etc/shadow" in refused
        assert await lines.start(push(gateway="gammu")) == "this agent has no 'gammu' support"
        assert await lines.start(push("/dev/gsmmodem9")) == (
            "baudrate = fast: a number of bits per second"
        )
        assert lines.workers["GSM1"].line is made[1]  # a refused push stops nothing

        await lines.stop("GSM1")
        assert lines.workers == {}
    finally:
        await lines.close()
        outbox.close()
