"""The SIM's balance by USSD and rejected calls, through real sms-server and sms-agent
processes and the virtual modem."""

from __future__ import annotations

import httpx
import pytest

from agent.modem.virtual_core import VirtualConfig
from tests.waiting import eventually

from .chaos_tools import BIN
from .modem_care_system import care_system

pytestmark = pytest.mark.skipif(
    not (BIN / "sms-agent").exists(), reason="the project is not installed (pip install -e .)"
)


async def test_the_balance_shows_and_warns_and_a_call_is_rejected_and_listed(tmp_path) -> None:
    config = VirtualConfig(ussd={"*101#": "Vas kredit je 42,50 Kc."}, ussd_encoding="ucs2")
    account = "balance_ussd = *101#\nbalance_low = 50\ncommand_timeout = 1"
    async with care_system(tmp_path, config, account) as system:
        status = await system.line_where(lambda s: s["balance"] is not None, "the balance")
        assert status["balance"] == 42.5 and status["balance_at"]
        assert status["balance_low"] is True
        assert "SIM balance 42.50 is below 50" in status["detail"]
        metrics = (await system.http.get("/metrics")).text
        assert 'smsbridge_modem_balance_low{agent="care",line="GSM1"} 1.0' in metrics
        assert 'smsbridge_modem_rung{agent="care",line="GSM1",rung="ok"} 1.0' in metrics
        history = status["signal_history"]  # sent with the status, a sample a minute
        assert history["dbm"][-1] == -113 + 2 * 21 and history["registration"][-1] == "h"
        assert (tmp_path / "agent" / "signal-GSM1.json").exists()  # kept across restarts

        system.modem.call("+420603123456", rings=20, interval=0.5)
        await eventually(lambda: system.modem.calls_hung_up, 15, "the call to be hung up")

        async def listed() -> list[dict]:
            return (await system.http.get("/api/calls")).json()["calls"]

        calls = await eventually(listed, 15, "the call in /api/calls", ignore=(httpx.HTTPError,))
        assert [(c["from"], c["line"], c["account"]) for c in calls] == [
            ("+420603123456", "GSM1", "GSM1")
        ]
        assert system.modem.calls_hung_up == ["+420603123456"]  # hung up once, not per ring
        # Both reach the CRM as events (the feed; webhooks send the same rows).
        feed = await system.http.get("/api/events?types=call.missed,line.balance_low")
        events = {e["type"]: e["data"] for e in feed.json()["events"]}
        assert events["call.missed"]["from"] == "+420603123456"
        assert events["call.missed"]["line"] == "GSM1" and events["call.missed"]["account"]
        assert events["line.balance_low"] == {"agent": "care", "line": "GSM1", "balance": 42.5}
