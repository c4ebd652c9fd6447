"""Fixtures: a virtual modem on a real pty and an AT driver with fast timeouts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from agent.modem.driver import ATModem
from agent.modem.interface import DeliveryReport, IncomingSMS, ModemConfig
from agent.modem.virtual import VirtualModem
from agent.modem.virtual_core import VirtualConfig


def fast_config(device: str, **overrides: object) -> ModemConfig:
    values: dict[str, object] = {
        "device": device,
        "command_timeout": 1.0,
        "prompt_timeout": 1.0,
        "result_timeout": 1.0,
        "pin_timeout": 2.0,
        "busy_delay": 0.01,
        "send_retry_delay": 0.01,
        "reconnect_min": 0.05,
        "reconnect_max": 0.2,
        "poll_interval": 3600.0,
    }
    values.update(overrides)
    return ModemConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[Callable[..., VirtualModem]]:
    started: list[VirtualModem] = []

    def start(**config: object) -> VirtualModem:
        link = str(tmp_path / f"gsmmodem{len(started)}")
        modem = VirtualModem(VirtualConfig(**config), link=link)  # type: ignore[arg-type]
        modem.start()
        started.append(modem)
        return modem

    yield start
    for modem in started:
        modem.stop()


class Recorder:
    def __init__(self) -> None:
        self.messages: list[IncomingSMS] = []
        self.reports: list[DeliveryReport] = []
        self.fail = False

    async def message(self, sms: IncomingSMS) -> None:
        if self.fail:
            raise RuntimeError("database down")
        self.messages.append(sms)

    async def report(self, report: DeliveryReport) -> None:
        self.reports.append(report)


@pytest.fixture
async def driver() -> AsyncIterator[Callable[..., ATModem]]:
    made: list[ATModem] = []

    def make(device: str, recorder: Recorder | None = None, **overrides: object) -> ATModem:
        recorder = recorder or Recorder()
        modem = ATModem(
            fast_config(device, **overrides),
            on_message=recorder.message,
            on_report=recorder.report,
        )
        made.append(modem)
        return modem

    yield make
    for modem in made:
        await modem.close()
