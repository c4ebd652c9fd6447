"""The agents page shows a modem line's recovery, resets, balance and its 24 h signal."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bridge import protocol as p
from server.agents.store import save_line_status
from server.db.tables import Agent
from server.web.modem_care import signal_chart
from tests.server.test_web_pages import admin  # noqa: F401  (the logged-in admin fixture)


async def test_recovery_balance_and_the_signal_chart_are_on_the_agents_page(admin, api, server):  # noqa: F811
    await api.post("/api/agents", json={"name": "office-1"})
    now = dt.datetime(2026, 12, 4, 19, 0, tzinfo=dt.UTC)
    history = p.SignalHistory(
        start=now - dt.timedelta(minutes=4), dbm=[-71, -75, None, -99, -101], registration="hh-ss"
    )
    status = p.LineStatus(
        line="GSM1",
        up=False,
        at=now,
        rung="needs-person",
        recovery="needs a person: no answer; tried: re-opening; AT+CFUN=1,1 at 18:58:00 (OK)",
        resets_today=1,
        last_reset=now,
        balance=42.5,
        balance_at=now,
        balance_low=True,
        signal_history=history,
    )
    async with server.sessions.begin() as session:
        agent = (await session.execute(select(Agent))).scalar_one()
        await save_line_status(session, agent, status)
    page = (await admin.get("/agents")).text
    assert "Recovery (needs-person): needs a person: no answer; tried: re-opening" in page
    # Times in the page's zone (Europe/Prague by default), as on the other pages.
    assert "1 reset today, the last at Dec 4, 2026, 8:00:00\u202fPM CET" in page
    assert "SIM balance: 42.5 (Dec 4, 2026, 8:00:00\u202fPM CET) — low" in page
    assert "<polyline" in page and "-101 to -71 dBm" in page
    assert "signal_history" not in page and "{&#34;start" not in page  # not dumped as JSON


def test_the_chart_breaks_at_gaps_and_marks_lost_registration() -> None:
    chart = signal_chart(
        {"start": "2026-12-04T18:56:00Z", "dbm": [-51, -113, None, -82], "registration": "hh-s"}
    )
    assert chart is not None
    assert chart["lines"] == ["0.0,0.0 96.0,48.0", "288.0,24.0"]
    assert chart["lost"] == [288.0] and (chart["low"], chart["high"]) == (-113, -51)
    assert signal_chart(None) is None


async def test_missed_calls_are_stored_once_listed_by_the_api_and_on_the_messages_page(
    admin,  # noqa: F811
    api,
    server,
):
    from server.agents.store import apply_event
    from tests.server.test_web_pages import login

    await api.post("/api/agents", json={"name": "office-1"})
    config = "agent = office-1\ndevice = /dev/gsmmodem0\nbaudrate = 115200\npin = "
    await api.account(name="GSM1", gateway="modem", config=config)
    when = dt.datetime(2026, 12, 4, 19, 5, tzinfo=dt.UTC)
    async with server.sessions.begin() as session:
        agent = (await session.execute(select(Agent))).scalar_one()
        for event_id, caller in ((7, "+420603123456"), (7, "+420603123456"), (8, "")):
            event = p.CallMissed(event_id=event_id, line="GSM1", caller=caller, time=when)
            await apply_event(session, agent, event)  # event 7 twice: stored once
    page = (await api.get("/api/calls", params={"limit": 1})).json()
    assert [(c["from"], c["account"], c["line"]) for c in page["calls"]] == [("", "GSM1", "GSM1")]
    rest = (await api.get("/api/calls", params={"before": page["next"]})).json()
    assert [c["from"] for c in rest["calls"]] == ["+420603123456"] and rest["next"] is None
    assert rest["calls"][0]["time"].startswith("2026-12-04T19:05:00")
    fragment = (await admin.get("/messages/calls")).text
    assert "Missed calls" in fragment and "+420603123456" in fragment and "withheld" in fragment
    assert 'hx-get="/messages/calls"' in (await admin.get("/messages")).text
    reader = await api.user("clerk", "read")
    api.client.cookies.clear()  # log the admin out: the same client logs in as clerk
    assert (await login(api.client, token=reader)).status_code == 303
    assert (await api.client.get("/messages/calls")).status_code == 403
    assert 'hx-get="/messages/calls"' not in (await api.client.get("/messages")).text
