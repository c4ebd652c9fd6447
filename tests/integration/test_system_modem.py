"""The whole system on the virtual modem: a real sms-server, the agent runtime with its
real modem line, and the virtual modem on a pseudo-terminal, over a real WebSocket."""

from __future__ import annotations

import pytest

from agent.modem.pdu_build import encode_deliver
from agent.modem.virtual import VirtualModem
from agent.modem.virtual_core import VirtualConfig
from tests.bridge.live import ADMIN_TOKEN, eventually

from .system import running_system


@pytest.fixture
async def system(tmp_path, monkeypatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    link = str(tmp_path / "gsmmodem0")
    modem = VirtualModem(VirtualConfig(pin="1234"), link=link)
    modem.start()
    config = f"device = {link}\nbaudrate = 115200\npin = 1234"
    allow = [str(tmp_path / "gsmmodem*")]
    try:
        async with running_system(tmp_path, "modem", config, allow) as (server, agent):
            yield server, modem, agent
    finally:
        modem.stop()


async def state_of(server, mid):
    return (await server.api("GET", f"/api/messages/{mid}"))["state"]


async def test_a_message_goes_out_through_the_virtual_modem_and_is_delivered(system):
    server, modem, _ = system
    text = "Příliš žluťoučký kůň úpěl ďábelské ódy " * 3  # UCS-2, two parts
    sent = await server.api("POST", "/api/messages", json={"to": "+420774884138", "text": text})
    assert sent["parts"] == 2

    async def delivered():
        return await state_of(server, sent["id"]) == "delivered"

    await eventually(delivered, timeout=30, what="the message to be delivered")
    subs = modem.submissions
    assert len(subs) == 2  # each part exactly once
    assert "".join(s.submit.text for s in subs) == text
    assert {s.submit.recipient for s in subs} == {"+420774884138"}
    assert all(s.submit.report_requested for s in subs)


async def test_a_reply_reaches_the_api_and_a_multipart_reply_arrives_whole(system):
    server, modem, _ = system
    await eventually(lambda: modem.plugged, what="modem")

    async def lines_up():
        (agent,) = await server.api("GET", "/api/agents")
        return agent["line_status"] and agent["line_status"][0]["up"]

    await eventually(lines_up, timeout=30, what="the modem line to come up")
    modem.deliver("+420603123456", "Díky, dorazilo.")
    long_text = "Odpověď na více částí. " * 12
    for pdu in encode_deliver("+420603123456", long_text, reference=0x17):
        modem.deliver_pdu(pdu)

    async def inbound():
        page = await server.api("GET", "/api/messages", params={"direction": "in"})
        return page["messages"] if len(page["messages"]) == 2 else None

    messages = await eventually(inbound, timeout=30, what="both replies to be stored")
    assert sorted(m["text"] for m in messages) == sorted(["Díky, dorazilo.", long_text])
    assert {m["from"] for m in messages} == {"+420603123456"}


async def test_the_agents_page_shows_the_modems_live_status(system):
    server, _, _ = system

    async def with_modem():
        (agent,) = await server.api("GET", "/api/agents")
        statuses = agent["line_status"]
        return statuses[0] if statuses and statuses[0].get("modem") else None

    status = await eventually(with_modem, timeout=30, what="modem status")
    modem = status["modem"]
    assert status["up"] is True
    assert modem["manufacturer"] == "smsbridge"
    assert modem["imei"] == "356938035643809"
    assert modem["operator"] == "Virtual Operator"
    assert modem["signal_dbm"] == -113 + 2 * 21
    assert modem["registration"] == "home"


@pytest.mark.peer("gammu")
async def test_the_libgammu_line_sends_and_sweeps_replies_stored_while_it_was_away(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    link = str(tmp_path / "gsmmodem0")
    modem = VirtualModem(VirtualConfig(), link=link)
    modem.start()
    modem.deliver("+420603123456", "Uloženo na SIM")  # before the agent is there
    config = f"device = {link}\nconnection = at"
    allow = [str(tmp_path / "gsmmodem*")]
    try:
        async with running_system(tmp_path, "gammu", config, allow) as (server, _):
            sent = await server.api(
                "POST", "/api/messages", json={"to": "+420774884138", "text": "Přes libgammu"}
            )
            # libgammu 1.45 does not set AT+CNMI for status reports, so `sent` is final here.
            await eventually(lambda: _state_in(server, sent["id"], "sent"), timeout=60)
            assert [s.submit.text for s in modem.submissions] == ["Přes libgammu"]

            async def reply():
                page = await server.api("GET", "/api/messages", params={"direction": "in"})
                return page["messages"]

            (got,) = await eventually(reply, timeout=60, what="the stored reply")
            assert (got["from"], got["text"]) == ("+420603123456", "Uloženo na SIM")
    finally:
        modem.stop()


async def _state_in(server, mid, *states):
    return (await server.api("GET", f"/api/messages/{mid}"))["state"] in states
