"""The bridge end to end over a real WebSocket: a real sms-server (uvicorn, SQLite or
PostgreSQL) and the agent runtime with a scripted line standing in for a device (the
real devices have their own end-to-end tests)."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from agent.bridge.runtime import Agent
from agent.config import AgentConfig
from bridge import protocol as p
from sms.segment import segment

from .live import eventually


class ScriptedLine:
    """A line whose device always accepts: records each job, answers Sent."""

    kind = "modem"

    def __init__(self, name: str, config: dict[str, str]) -> None:
        self.name = name
        self.config = config
        self.jobs: list[p.Job] = []
        self.emit = None

    async def start(self, ctx):
        self.emit = ctx.emit

    async def ready(self):
        return None

    async def send(self, job: p.Job) -> list[p.Event]:
        self.jobs.append(job)
        refs = [p.PartRef(n, n) for n in range(1, segment(job.text).count + 1)]
        return [p.Sent(event_id=0, job_id=job.id, at=datetime.now(UTC), parts=refs)]

    def status(self) -> p.LineStatus:
        return p.LineStatus(
            line=self.name, up=True, at=datetime.now(UTC), modem=p.ModemInfo(signal_bars=4)
        )

    async def close(self) -> None:
        pass


MODEM_CONFIG = "device = /dev/gsmmodem0\nbaudrate = 115200\npin = 1234\nagent = office-1"


@contextlib.asynccontextmanager
async def running_agent(server, tmp_path, token, lines):
    config = AgentConfig(
        server=server.ws_url,
        name="office-1",
        token=token,
        state_dir=str(tmp_path / "agent"),
        allow=["/dev/gsmmodem*"],
    )

    def factory(push):
        line = ScriptedLine(push.line, dict(push.config))
        lines[push.line] = line
        return line

    agent = Agent(config, {"modem": factory})
    task = asyncio.create_task(agent.run())
    try:
        yield agent
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        agent.outbox.close()


async def setup_account(server, config=MODEM_CONFIG):
    created = await server.api("POST", "/api/agents", json={"name": "office-1"})
    account = await server.api(
        "POST",
        "/api/accounts",
        json={"name": "GSM1", "gateway": "modem", "config": config, "default": True},
    )
    return created["token"], account


async def message(server, mid):
    return await server.api("GET", f"/api/messages/{mid}")


async def test_a_message_reaches_the_agents_line_once_and_turns_sent(server, tmp_path):
    token, _ = await setup_account(server)
    lines: dict[str, ScriptedLine] = {}
    async with running_agent(server, tmp_path, token, lines) as agent:
        await eventually(lambda: "GSM1" in lines, what="the line to be configured")
        assert lines["GSM1"].config["pin"] == "1234"  # secrets travel to the agent only
        sent = await server.api(
            "POST", "/api/messages", json={"to": "+420774884138", "text": "Ahoj"}
        )
        await eventually(
            lambda: _state_is(server, sent["id"], "sent"), what="the message to be sent"
        )
        assert [j.id for j in lines["GSM1"].jobs] == [sent["id"]]
        assert lines["GSM1"].jobs[0].to == "+420774884138"
        await eventually(lambda: agent.outbox.event_count() == 0, what="events acked")


async def _state_is(server, mid, state):
    return (await message(server, mid))["state"] == state


async def test_jobs_posted_while_the_agent_is_away_go_out_when_it_connects(server, tmp_path):
    token, _ = await setup_account(server)
    ids = [
        (await server.api("POST", "/api/messages", json={"to": "+420774884138", "text": f"m{i}"}))[
            "id"
        ]
        for i in range(5)
    ]
    lines: dict[str, ScriptedLine] = {}
    async with running_agent(server, tmp_path, token, lines):
        for mid in ids:
            await eventually(lambda mid=mid: _state_is(server, mid, "sent"), what=f"{mid} sent")
    assert sorted(j.id for j in lines["GSM1"].jobs) == sorted(ids)


async def test_incoming_sms_and_reports_become_messages_and_states(server, tmp_path):
    token, _ = await setup_account(server)
    lines: dict[str, ScriptedLine] = {}
    async with running_agent(server, tmp_path, token, lines):
        await eventually(lambda: "GSM1" in lines and lines["GSM1"].emit, what="line started")
        line = lines["GSM1"]
        sent = await server.api("POST", "/api/messages", json={"to": "+420774884138", "text": "x"})
        await eventually(lambda: _state_is(server, sent["id"], "sent"), what="sent")
        now = datetime.now(UTC)
        await line.emit(p.Delivered(event_id=0, job_id=sent["id"], at=now, status=0))
        await line.emit(
            p.Received(
                event_id=0,
                line="GSM1",
                sender="+420603123456",
                text="Díky",
                at=now,
                received_at=now,
            )
        )
        await eventually(lambda: _state_is(server, sent["id"], "delivered"), what="delivered")

        async def inbound():
            page = await server.api("GET", "/api/messages", params={"direction": "in"})
            return page["messages"]

        (reply,) = await eventually(inbound, what="the reply to be stored")
        assert (reply["from"], reply["text"], reply["state"]) == (
            "+420603123456",
            "Díky",
            "received",
        )
        assert reply["gateway"] == "modem"


async def test_an_sms_on_a_line_no_account_names_is_kept_for_the_admins(server, tmp_path):
    token, _ = await setup_account(server)
    lines: dict[str, ScriptedLine] = {}
    async with running_agent(server, tmp_path, token, lines):
        await eventually(lambda: "GSM1" in lines and lines["GSM1"].emit, what="line started")
        now = datetime.now(UTC)
        await lines["GSM1"].emit(
            p.Received(
                event_id=0, line="GSM9", sender="603 123 456", text="?", at=now, received_at=now
            )
        )

        async def inbound():
            page = await server.api("GET", "/api/messages", params={"direction": "in"})
            return page["messages"]

        (kept,) = await eventually(inbound, what="the orphan to be stored")
    assert kept["account"] is None
    assert kept["from"] == "+420603123456"  # normalised like any other sender
    assert kept["detail"] == "arrived on line 'GSM9' of agent 'office-1', which no account names"


async def test_the_agent_page_shows_it_online_with_its_line_status(server, tmp_path):
    token, _ = await setup_account(server)
    lines: dict[str, ScriptedLine] = {}
    async with running_agent(server, tmp_path, token, lines):

        async def online():
            (agent,) = await server.api("GET", "/api/agents")
            return agent if agent["online"] and agent["line_status"] else None

        agent = await eventually(online, what="the agent to show online with a line status")
        assert agent["line_status"][0]["line"] == "GSM1"
        assert agent["line_status"][0]["modem"]["signal_bars"] == 4
        assert await connected_metric(server) == 1.0

    async def offline():
        (agent,) = await server.api("GET", "/api/agents")
        return not agent["online"]

    await eventually(offline, what="the agent to show offline")
    assert await connected_metric(server) == 0.0


async def connected_metric(server) -> float:
    text = (await server.http.get("/metrics")).text
    (line,) = [x for x in text.splitlines() if x.startswith("smsbridge_agents_connected ")]
    return float(line.split()[1])


async def test_a_configuration_outside_the_allow_list_is_refused_and_reported(server, tmp_path):
    token, _ = await setup_account(server, MODEM_CONFIG.replace("/dev/gsmmodem0", "/dev/ttyS0"))
    lines: dict[str, ScriptedLine] = {}
    async with running_agent(server, tmp_path, token, lines):

        async def refused():
            (agent,) = await server.api("GET", "/api/agents")
            return agent["line_status"]

        (status,) = await eventually(refused, what="the refusal to be reported")
        assert status["up"] is False
        assert "allow-list" in status["last_error"]
        assert "/dev/ttyS0" in status["last_error"]
    assert lines == {}


async def test_an_agent_with_a_wrong_token_stops_and_says_why(server, tmp_path):
    await setup_account(server)
    config = AgentConfig(
        server=server.ws_url, name="office-1", token="sba_wrong", state_dir=str(tmp_path / "a")
    )
    agent = Agent(config, {})
    await asyncio.wait_for(agent.run(), 15)  # returns: reconnecting would not help
    assert "HTTP 403" in agent.last_error
    agent.outbox.close()


async def test_sms_agent_status_reads_the_running_agent(server, tmp_path):
    from agent.bridge.status_socket import read_status, serve_status
    from agent.commands.run import format_status

    token, _ = await setup_account(server)
    lines: dict[str, ScriptedLine] = {}
    async with running_agent(server, tmp_path, token, lines) as agent:
        sock = tmp_path / "agent.sock"
        async with serve_status(sock, agent.snapshot):
            await eventually(lambda: agent.connected_since and "GSM1" in agent.workers)
            status = await asyncio.to_thread(read_status, sock)
    assert status["connected"] is True
    assert status["lines"][0]["line"] == "GSM1"
    text = format_status(status)
    assert "connected since" in text
    assert "GSM1" in text and "up" in text


async def test_changing_one_account_does_not_restart_the_agents_other_lines(server, tmp_path):
    token, first = await setup_account(server)
    second_config = MODEM_CONFIG.replace("gsmmodem0", "gsmmodem1")
    second = await server.api(
        "POST", "/api/accounts", json={"name": "GSM2", "gateway": "modem", "config": second_config}
    )
    lines: dict[str, ScriptedLine] = {}
    async with running_agent(server, tmp_path, token, lines) as agent:
        await eventually(lambda: {"GSM1", "GSM2"} <= set(agent.workers), what="both lines")
        gsm1 = agent.workers["GSM1"].line
        await server.api(
            "PATCH",
            f"/api/accounts/{second['id']}",
            json={"config": second_config + "\nsmsc = +420603052000"},
        )
        await eventually(
            lambda: agent.workers["GSM2"].line.config.get("smsc") == "+420603052000",
            what="GSM2 to get its new configuration",
        )
        assert agent.workers["GSM1"].line is gsm1  # untouched
        await server.api("DELETE", f"/api/accounts/{first['id']}")
        await eventually(lambda: "GSM1" not in agent.workers, what="GSM1 to be stopped")


async def test_a_multipart_message_is_delivered_only_when_every_part_is(server, tmp_path):
    token, _ = await setup_account(server)
    lines: dict[str, ScriptedLine] = {}
    async with running_agent(server, tmp_path, token, lines) as agent:
        await eventually(lambda: "GSM1" in lines and lines["GSM1"].emit, what="line started")
        line = lines["GSM1"]
        two_parts = await server.api(
            "POST", "/api/messages", json={"to": "+420774884138", "text": "x" * 200}
        )
        assert two_parts["parts"] == 2
        await eventually(lambda: _state_is(server, two_parts["id"], "sent"), what="sent")
        now = datetime.now(UTC)
        await line.emit(p.Delivered(event_id=0, job_id=two_parts["id"], at=now, part=1))
        # The part-1 report is applied once the server acked it (the outbox is empty).
        await eventually(lambda: agent.outbox.event_count() == 0, what="the report acked")
        half = await message(server, two_parts["id"])
        assert half["state"] == "sent"
        assert [(x["part"], x["state"]) for x in half["part_states"]] == [
            (1, "delivered"),
            (2, "sent"),
        ]
        await line.emit(p.Delivered(event_id=0, job_id=two_parts["id"], at=now, part=2))
        await eventually(lambda: _state_is(server, two_parts["id"], "delivered"), what="whole")
        whole = await message(server, two_parts["id"])
        assert [x["state"] for x in whole["part_states"]] == ["delivered", "delivered"]
        listed = await server.api("GET", "/api/messages?direction=out")
        assert [m["part_states"] for m in listed["messages"]] == [whole["part_states"]]


async def test_a_report_for_part_one_does_not_hide_that_part_two_failed(server, tmp_path):
    token, _ = await setup_account(server)
    lines: dict[str, ScriptedLine] = {}

    async def half_sent(job):
        # The report for part 1 races ahead of the news that part 2 failed.
        now = datetime.now(UTC)
        await lines["GSM1"].emit(p.Delivered(event_id=0, job_id=job.id, at=now, part=1))
        return [p.Failed(event_id=0, job_id=job.id, at=now, reason="transient", detail="1 of 2")]

    async with running_agent(server, tmp_path, token, lines):
        await eventually(lambda: "GSM1" in lines and lines["GSM1"].emit, what="line started")
        lines["GSM1"].send = half_sent
        msg = await server.api(
            "POST", "/api/messages", json={"to": "+420774884138", "text": "y" * 200}
        )
        await eventually(lambda: _state_is(server, msg["id"], "failed"), what="failed")
        assert (await message(server, msg["id"]))["reason"] == "transient"
