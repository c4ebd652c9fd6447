"""The Modem protocol is the whole of what the modem line uses, and both backends have
all of it: no member is probed for with hasattr/getattr."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

from agent.modem.driver import ATModem
from agent.modem.error_codes import ErrorClass
from agent.modem.gammu_backend import GammuModem
from agent.modem.interface import Modem, ModemConfig, ModemError

ROOT = Path(__file__).resolve().parents[2]
LINE_MODULES = [ROOT / "agent/lines/modem.py", ROOT / "agent/lines/modem_care.py"]


def declared() -> set[str]:
    names = set(Modem.__annotations__)
    names |= {n for n in vars(Modem) if not n.startswith("_")}
    return names


def used_by_the_line() -> set[str]:
    """Every `self.modem.X` / `modem.X` the modem line's modules read or set."""
    used: set[str] = set()
    for path in LINE_MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value
            if (isinstance(owner, ast.Attribute) and owner.attr == "modem") or (
                isinstance(owner, ast.Name) and owner.id == "modem"
            ):
                used.add(node.attr)
    return used


def test_the_protocol_declares_every_member_the_line_uses() -> None:
    assert used_by_the_line() - declared() == set()
    assert {"connected", "ladder", "ussd", "climb", "needs_person"} <= used_by_the_line()


def test_the_line_probes_the_modem_for_nothing() -> None:
    for path in LINE_MODULES:
        text = path.read_text()
        assert "hasattr(self.modem" not in text and "getattr(self.modem" not in text, path


@pytest.mark.parametrize("backend", [ATModem, GammuModem])
async def test_both_backends_have_every_member(backend: type) -> None:
    modem = backend(ModemConfig(device="/dev/null"))
    try:
        missing = [name for name in sorted(declared()) if not hasattr(modem, name)]
        assert missing == []
        assert isinstance(modem.connected, asyncio.Event)
        assert isinstance(modem.needs_person, asyncio.Event)
    finally:
        if isinstance(modem, GammuModem):
            modem._executor.shutdown()


async def test_gammu_says_it_cannot_do_ussd() -> None:
    modem = GammuModem(ModemConfig(device="/dev/ttyUSB3"))
    try:
        assert modem.can_ussd is False and modem.ladder is None
        assert await modem.climb("lost") is False
        with pytest.raises(ModemError, match=r"USSD \(\*101#\) is not supported") as caught:
            await modem.ussd("*101#")
        assert caught.value.error_class is ErrorClass.DEVICE
    finally:
        modem._executor.shutdown()


def test_modem_error_class_is_the_enum() -> None:
    assert ModemError("x").error_class is ErrorClass.DEVICE
    error = ModemError("x", "transient")
    assert error.error_class is ErrorClass.TRANSIENT and error.error_class == "transient"
    with pytest.raises(ValueError):
        ModemError("x", "sometimes")
