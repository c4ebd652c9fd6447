"""Prometheus gauges of the modem lines' care (issue 17), from what each agent last
reported: recovery rung, resets today, SIM balance and its warning, signal."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from .agents.store import line_statuses

RUNGS = ("ok", "reopen", "reset", "usb", "needs-person")


class ModemMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["agent", "line"]
        self.rung = Gauge(
            "smsbridge_modem_rung",
            "1 for the recovery rung a modem line is on (ok, reopen, reset, usb, needs-person)",
            [*labels, "rung"],
            registry=registry,
        )
        self.resets_today = Gauge(
            "smsbridge_modem_resets_today",
            "Functional resets and USB re-binds of a modem line today",
            labels,
            registry=registry,
        )
        self.balance = Gauge(
            "smsbridge_modem_balance",
            "The SIM's credit as its balance_ussd answer last said",
            labels,
            registry=registry,
        )
        self.balance_low = Gauge(
            "smsbridge_modem_balance_low",
            "1 when the SIM's credit is below the line's balance_low",
            labels,
            registry=registry,
        )
        self.signal_dbm = Gauge(
            "smsbridge_modem_signal_dbm",
            "A modem line's last signal in dBm",
            labels,
            registry=registry,
        )

    async def fill(self, session: AsyncSession) -> None:
        for gauge in (
            self.rung,
            self.resets_today,
            self.balance,
            self.balance_low,
            self.signal_dbm,
        ):
            gauge.clear()
        for agent, statuses in (await line_statuses(session)).items():
            for st in statuses:
                if st.rung is None:
                    continue  # not a modem line (or an agent from before issue 17)
                for rung in RUNGS:
                    self.rung.labels(agent, st.line, rung).set(1 if st.rung == rung else 0)
                self.resets_today.labels(agent, st.line).set(st.resets_today)
                if st.balance is not None:
                    self.balance.labels(agent, st.line).set(st.balance)
                    self.balance_low.labels(agent, st.line).set(1 if st.balance_low else 0)
                if st.modem is not None and st.modem.signal_dbm is not None:
                    self.signal_dbm.labels(agent, st.line).set(st.modem.signal_dbm)
