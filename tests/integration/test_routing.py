"""Several lines per account, end to end: virtual modems on two agents behind one
account, a real sms-server and real agents. Balance by segments, pacing checked from
the modems' own logs, a line unplugged mid-run, sticky replies, and the fallback to a
fake smsbrana and back."""

from __future__ import annotations

import collections

import pytest

from agent.modem.virtual_core import VirtualConfig
from sms.segment import segment
from tests.bridge.live import ADMIN_TOKEN, eventually, fresh_pg_database
from tests.gateways.fakes.smsbrana import FakeSmsbrana

from .routing_system import routing_system


@pytest.fixture(autouse=True)
def _admin(monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)


def number(i: int) -> str:
    return f"+42077750{i:04d}"


def text_for(i: int) -> str:
    # One message in three has two parts; every part's text is unique.
    words = 30 if i % 3 == 0 else 1
    return f"route #{i:04d} " + " ".join(f"w{i:04d}.{k:02d}" for k in range(words))


async def settled(system, ids: list[str], states=("sent", "delivered")) -> list[dict]:
    got = await system.states(ids)
    return got if all(m["state"] in states for m in got) else []


def segments_at(modem) -> int:
    return len(modem.submissions)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.peer("postgresql"))])
async def db_url(request):
    if request.param == "sqlite":
        yield None
        return
    async with fresh_pg_database("smsbridge_routing") as url:
        yield url


async def test_jobs_are_balanced_across_lines_on_two_agents_by_segments(tmp_path, db_url):
    # Each segment is a network round trip at the modem (the radio is the limit).
    radio = VirtualConfig(cmgs_delay=0.05)
    async with routing_system(tmp_path, modems=4, modem_config=radio, db_url=db_url) as system:
        ids = [(await system.send(number(i), text_for(i)))["id"] for i in range(80)]
        final = await eventually(lambda: settled(system, ids), timeout=60, what="all sent")
        per_modem = [segments_at(m) for m in system.modems]
        total = sum(segment(text_for(i)).count for i in range(80))
        assert sum(per_modem) == total  # every part once, nothing lost
        mean = total / len(per_modem)
        assert all(abs(n - mean) <= 0.1 * mean for n in per_modem), per_modem
        # Every message says which line carried it, and that line's modem has it.
        by_line = collections.Counter(m["line"] for m in final)
        assert set(by_line) == set(system.lines)
        assert all(m["route"] == m["line"] for m in final)


async def test_pacing_is_never_exceeded_and_a_message_over_budget_waits_with_its_reason(
    tmp_path, db_url
):
    async with routing_system(tmp_path, modems=4, per_minute="4", db_url=db_url) as system:
        # 24 single-part messages, 4 lines of 4 segments a minute: 16 go now, 8 wait.
        ids = [(await system.send(number(i), f"paced #{i}"))["id"] for i in range(24)]

        async def sixteen_sent():
            got = await system.states(ids)
            sent = [m for m in got if m["state"] in ("sent", "delivered")]
            return got if len(sent) == 16 else None

        got = await eventually(sixteen_sent, timeout=30, what="16 messages sent")
        waiting = [m for m in got if m["state"] == "queued"]
        assert len(waiting) == 8
        for m in waiting:
            assert m["detail"].startswith("waiting: line office-")
            assert "sent 4 of 4 segments this minute" in m["detail"]
        # The modems' own logs, with their timestamps: at most 4 per line in 60 s.
        for modem in system.modems:
            times = sorted(s.time for s in modem.submissions)
            assert len(times) == 4
            assert all(sum(1 for u in times if t <= u < t + 60) <= 4 for t in times)
        loads = await system.loads()
        for key in system.lines:
            load = loads[key]
            assert (load["segments_minute"], load["per_minute"]) == (4, 4)
            assert load["taking_jobs"] is False
            assert load["why_not"].startswith("over per_minute")
        agents = await system.server.api("GET", "/api/agents")
        # Each agent runs two lines of the account: its 8 queued messages wait for either.
        assert {a["name"]: a["queue_depth"] for a in agents} == {"office-1": 8, "office-2": 8}
        assert {a["name"]: a["lines"] for a in agents} == {
            "office-1": ["GSM", "GSM#3"],
            "office-2": ["GSM#2", "GSM#4"],
        }
        metrics = (await system.server.http.get("/metrics")).text
        assert (
            'smsbridge_line_segments{agent="office-2",line="GSM#2",window="minute"} 4.0' in metrics
        )
        assert 'smsbridge_line_limit{agent="office-2",line="GSM#2",window="minute"} 4.0' in metrics


async def test_an_unplugged_line_drains_to_the_others_without_loss_or_duplicate(tmp_path):
    slow = VirtualConfig(cmgs_delay=0.05)
    async with routing_system(tmp_path, modems=4, modem_config=slow) as system:
        ids = [(await system.send(number(i), text_for(i)))["id"] for i in range(60)]
        victim = system.modems[3]
        await eventually(lambda: segments_at(victim) >= 3, timeout=30, what="the victim sends")
        victim.unplug()
        unplugged_at = segments_at(victim)

        async def others_done():
            got = await system.states(ids)
            left = [m for m in got if m["state"] in ("queued", "dispatched")]
            # At most the one job the unplugged modem's agent already holds is left.
            return got if len(left) <= 1 else None

        await eventually(others_done, timeout=60, what="the other lines to drain the queue")
        assert segments_at(victim) - unplugged_at <= 2  # at most the job in flight
        victim.replug()
        final = await eventually(
            lambda: settled(system, ids, ("sent", "delivered", "failed")),
            timeout=60,
            what="everything settled",
        )
    failed = [m for m in final if m["state"] == "failed"]
    assert len(failed) <= 1 and all(m["reason"] == "outcome-unknown" for m in failed)
    parts = collections.Counter(s.submit.text for m in system.modems for s in m.submissions)
    assert all(n == 1 for n in parts.values()), "a part was sent twice"
    for i, m in enumerate(final):
        if m["state"] != "failed":
            assert all(parts[p] == 1 for p in segment(text_for(i)).parts), m


async def test_a_reply_goes_out_on_the_line_the_number_wrote_to(tmp_path):
    async with routing_system(tmp_path, modems=4) as system:
        line_b, modem_b = system.lines[2], system.modems[2]
        modem_b.deliver("+420603123456", "Dobrý den, mám dotaz")

        async def inbound():
            page = await system.server.api("GET", "/api/messages", params={"direction": "in"})
            return page["messages"]

        (got,) = await eventually(inbound, timeout=30, what="the SMS to arrive")
        assert got["line"] == line_b
        replies = [(await system.send("+420603123456", f"Odpověď {k}"))["id"] for k in range(3)]
        final = await eventually(lambda: settled(system, replies), timeout=30, what="replies")
        assert {m["line"] for m in final} == {line_b}
        assert sorted(s.submit.text for s in modem_b.submissions) == [
            f"Odpověď {k}" for k in range(3)
        ]


async def test_fallback_to_smsbrana_when_every_line_is_down_and_back_when_one_returns(tmp_path):
    fake = FakeSmsbrana()
    fake.add_account("acme", "s3cret-Pa55")
    with fake.running() as url:

        async def web_account(server) -> str:
            await server.api(
                "POST",
                "/api/accounts",
                json={
                    "name": "brana",
                    "gateway": "smsbrana",
                    "config": f"login = acme\npassword = s3cret-Pa55\nurl = {url}",
                },
            )
            return "fallback = brana\nfallback_after = 1"

        async with routing_system(tmp_path, modems=2, before_account=web_account) as system:
            accounts = await system.server.api("GET", "/api/accounts")
            brana = next(a["id"] for a in accounts if a["name"] == "brana")
            for modem in system.modems:
                modem.unplug()
            await eventually(lambda: _all_down(system), timeout=30, what="both lines to be down")
            sent = await system.send("+420777123456", "Přes zálohu")
            done = await eventually(
                lambda: _state(system, sent["id"], "sent"), timeout=30, what="the fallback"
            )
            assert done["route"] == f"account:{brana}"
            assert done["account"] == system.account["id"]  # the account the CRM asked for
            assert [s.number for s in fake.sent("acme")] == ["+420777123456"]
            assert not any(m.submissions for m in system.modems)

            system.modems[1].replug()
            await eventually(
                lambda: system.all_up([system.lines[1]]), timeout=30, what="a line back"
            )
            again = await system.send("+420777123456", "Zase modemem")
            done = await eventually(
                lambda: _state(system, again["id"], "sent"), timeout=30, what="the modem"
            )
            assert done["route"] == system.lines[1]
            assert [s.submit.text for s in system.modems[1].submissions] == ["Zase modemem"]
            assert len(fake.sent("acme")) == 1


async def _all_down(system) -> bool:
    loads = await system.loads()
    return all(not load["up"] for load in loads.values())


async def _state(system, mid: str, state: str):
    m = await system.message(mid)
    return m if m["state"] in (state, "delivered") else None
