"""The recovery ladder through real sms-server and sms-agent processes: a hung modem is
back by the second rung (the functional reset) with its message sent exactly once; one
that never answers again ends at "needs a person" with what was tried."""

from __future__ import annotations

import pytest

from agent.modem.virtual_core import VirtualConfig
from tests.waiting import eventually

from .chaos_tools import BIN
from .modem_care_system import care_system

pytestmark = pytest.mark.skipif(
    not (BIN / "sms-agent").exists(), reason="the project is not installed (pip install -e .)"
)
FAST = "reset_after = 1\ncommand_timeout = 1"
FASTER = "reset_after = 1\ncommand_timeout = 0.8"  # nothing must succeed after the hang


async def test_a_hung_modem_is_reset_and_its_message_goes_out_once(tmp_path) -> None:
    async with care_system(tmp_path, VirtualConfig(), FAST) as system:
        system.modem.hang("sms")  # answers AT, not the SMS commands: re-init cannot help
        mid = await system.post("nach dem Reset")

        async def sent() -> dict | None:
            message = await system.message(mid)
            return message if message["state"] in ("sent", "delivered", "failed") else None

        message = await eventually(sent, 60, "the held message to settle", interval=0.2)
        assert message["state"] in ("sent", "delivered"), message
        assert [s.submit.text for s in system.modem.submissions] == ["nach dem Reset"]
        assert system.modem.resets == 1
        status = await system.line_where(
            lambda s: s["up"] and s["resets_today"] == 1, "the reset in the status"
        )
        assert status["rung"] == "ok" and status["last_reset"]


async def test_a_modem_that_never_answers_again_ends_at_needs_a_person(tmp_path) -> None:
    async with care_system(tmp_path, VirtualConfig(), FASTER) as system:
        system.modem.hang("forever")
        mid = await system.post("never")
        status = await system.line_where(
            lambda s: s["rung"] == "needs-person", "the ladder's top", timeout=60
        )
        assert not status["up"]
        assert "re-opening" in status["recovery"] and "AT+CFUN=1,1" in status["recovery"]
        assert status["resets_today"] == 1

        async def failed() -> dict | None:
            message = await system.message(mid)
            return message if message["state"] == "failed" else None

        message = await eventually(failed, 30, "the held message to fail", interval=0.2)
        assert "needs a person" in (message.get("detail") or "") + str(message)
        assert system.modem.submissions == []
