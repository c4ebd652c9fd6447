"""The routing round on a real database with the control columns: quiet hours from the
account's configuration, bulk_share counted from the messages, expiry, TP-VP in the job."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from server.db.tables import Agent, AgentLine, Message
from server.routing.store import route_round
from server.runtime import Server
from server.settings import SettingsError, build
from tests.server.conftest import Api

SPOOL = (
    "in = /var/spool/sms/incoming\nout = /var/spool/sms/outgoing\nmodem = GSM1\nagent = office-1"
)


async def spool_account(api: Api, server: Server, name: str, extra: str) -> int:
    account = await api.account(name=name, gateway="smstools", config=f"{SPOOL}\n{extra}")
    async with server.sessions.begin() as session:
        agent = (await session.execute(select(Agent).where(Agent.name == "office-1"))).scalar()
        assert agent is not None
        agent.connection = "this-process"
        session.add(AgentLine(agent_id=agent.id, line=name, up=True))
    return int(account["id"])  # type: ignore[call-overload]


async def send(api: Api, account: int, n: int, **body: object) -> list[str]:
    ids = []
    for i in range(n):
        r = await api.post(
            "/api/messages",
            json={"to": f"+42060100{i:04d}", "text": f"m{i}", "account": account} | body,
        )
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    return ids


async def test_a_round_holds_quiet_accounts_caps_bulk_expires_and_sends_validity(
    api: Api, server: Server
) -> None:
    await api.post("/api/agents", json={"name": "office-1"})
    now = dt.datetime.now(dt.UTC)
    start, end = (now - dt.timedelta(hours=1)), (now + dt.timedelta(hours=1))
    quiet = await spool_account(
        api, server, "quiet", f"quiet_hours = {start:%H:%M}-{end:%H:%M}\ntime_zone = UTC"
    )
    paced = await spool_account(api, server, "paced", "per_minute = 10\nbulk_share = 20%")
    held = await send(api, quiet, 2)
    bulk = await send(api, paced, 5, priority="bulk")
    [normal] = await send(api, paced, 1, valid_until=(now + dt.timedelta(hours=2)).isoformat())
    [late] = await send(api, paced, 1, ttl=60)
    async with server.sessions.begin() as session:
        await session.execute(update(Message).where(Message.id == late).values(valid_until=now))
    async with server.sessions.begin() as session:
        result = await route_round(
            session, {"office-1"}, "test", {}, now, everything=True, default_zone="UTC"
        )
    handed = {job.id: job for _, job in result.jobs}
    assert set(handed) == {normal, *bulk[:2]}  # 20 % of 10: two bulk segments a minute
    assert handed[normal].validity_minutes == 120  # what is left at `now`: 2 h
    async with server.sessions() as session:
        rows = {
            m.id: m
            for m in (await session.execute(select(Message))).scalars()
            if m.id in {*held, *bulk, late}
        }
    assert {rows[m].detail for m in held} == {f"waiting: quiet hours until {end:%H:%M} UTC"}
    assert rows[bulk[2]].detail == (
        "waiting: line office-1/paced has sent 2 of 2 bulk segments this minute (bulk_share)"
    )
    assert (rows[late].state, rows[late].reason) == ("failed", "expired")
    # The next round is due when the quiet time ends (to the minute of `end`).
    assert result.next_check is not None
    assert 0 <= (end - now).total_seconds() - result.next_check < 60


def test_the_servers_time_zone_is_checked_at_start() -> None:
    assert build({}, {"time_zone": "UTC"}).time_zone == "UTC"
    assert build({}, {}).time_zone == "Europe/Prague"
    with pytest.raises(
        SettingsError, match="time_zone: 'Mars/Olympus' is not a known IANA time zone"
    ):
        build({}, {"time_zone": "Mars/Olympus"})


async def test_a_queued_message_no_line_has_yet_is_cancelled_a_handed_one_is_409(
    api: Api, server: Server
) -> None:
    await api.post("/api/agents", json={"name": "office-1"})
    paced = await spool_account(api, server, "paced", "")
    first, second = await send(api, paced, 2)
    r = await api.delete(f"/api/messages/{second}")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    now = dt.datetime.now(dt.UTC)
    async with server.sessions.begin() as session:
        result = await route_round(session, {"office-1"}, "test", {}, now, everything=True)
    assert [job.id for _, job in result.jobs] == [first]  # never the cancelled one
    r = await api.delete(f"/api/messages/{first}")
    assert r.status_code == 409
    assert r.json()["detail"] == (
        f"message '{first}' was handed to line office-1/paced already, not cancellable"
    )
