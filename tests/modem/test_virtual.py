"""The virtual modem over a real pty, spoken to with pyserial and the AT engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agent.modem.at import Prompt
from agent.modem.pdu import Deliver, StatusReport, decode, encode_submit
from agent.modem.virtual import VirtualModem
from agent.modem.virtual_core import VirtualConfig
from tests.modem.atclient import ATClient


@pytest.fixture
def make() -> Iterator:
    opened: list[tuple[VirtualModem, ATClient]] = []

    def factory(**config: object) -> tuple[VirtualModem, ATClient]:
        modem = VirtualModem(VirtualConfig(**config))  # type: ignore[arg-type]
        modem.start()
        client = ATClient(modem.path)
        opened.append((modem, client))
        return modem, client

    yield factory
    for modem, client in opened:
        client.close()
        modem.stop()


def test_echo_is_on_at_start_and_ate0_turns_it_off(make) -> None:
    modem, client = make()
    assert client.command("AT")[1].ok
    assert any(e.direction == "tx" and e.data == b"AT\r" for e in modem.log)
    assert client.command("ATE0")[1].ok
    count = len(modem.log)
    assert client.command("AT+CSQ") == (["+CSQ: 21,99"], client.command("AT")[1])
    assert not any(e.data.startswith(b"AT+CSQ") for e in modem.log[count:] if e.direction == "tx")


def test_identity_and_status_queries(make) -> None:
    _, client = make()
    assert client.command("AT+CGSN")[0] == ["356938035643809"]
    assert client.command("AT+CREG?")[0] == ["+CREG: 0,1"]
    assert client.command("AT+COPS?")[0] == ['+COPS: 0,0,"Virtual Operator",7']
    assert client.command('AT+CPMS="SM","SM","SM"')[0] == ["+CPMS: 0,20,0,20,0,20"]


def test_chained_commands_get_one_ok(make) -> None:
    _, client = make()
    lines, final = client.command("AT+CMEE=1;+CSQ")
    assert lines == ["+CSQ: 21,99"] and final.ok


def test_unknown_command_is_an_error(make) -> None:
    _, client = make()
    assert not client.command("AT+FOO")[1].ok


def test_send_records_the_submit_and_answers_with_an_mr(make) -> None:
    modem, client = make()
    [part] = encode_submit("+420777123456", "Ahoj")
    lines, final = client.send_pdu(part.tpdu_length, part.pdu)
    assert final.ok and lines == ["+CMGS: 1"]
    [sub] = modem.submissions
    assert sub.submit.recipient == "+420777123456" and sub.submit.text == "Ahoj"


def test_wrong_pdu_length_is_cms_304(make) -> None:
    modem, client = make()
    [part] = encode_submit("+420777123456", "Ahoj")
    _, final = client.send_pdu(part.tpdu_length + 1, part.pdu)
    assert final.error is not None and final.error.code == 304
    assert modem.submissions == []


def test_status_report_routed_as_cds(make) -> None:
    _, client = make()
    client.command("AT+CNMI=2,1,0,1,0")
    [part] = encode_submit("+420777123456", "Ahoj", report=True)
    lines, _ = client.send_pdu(part.tpdu_length, part.pdu)
    urc = client.wait_urc("+CDS")
    assert urc.pdu is not None
    report = decode(urc.pdu)
    assert isinstance(report, StatusReport) and report.reference == int(lines[0][7:])


def test_status_report_stored_as_cdsi(make) -> None:
    _, client = make()
    client.command("AT+CNMI=2,1,0,2,0")
    [part] = encode_submit("+420777123456", "Ahoj", report=True)
    client.send_pdu(part.tpdu_length, part.pdu)
    urc = client.wait_urc("+CDSI")
    assert urc.args == ["SR", "1"]
    client.command('AT+CPMS="SR"')
    lines, _ = client.command("AT+CMGR=1")
    assert isinstance(decode(lines[1]), StatusReport)


def test_incoming_message_is_stored_announced_read_and_deleted(make) -> None:
    modem, client = make()
    client.command("AT+CNMI=2,1,0,2,0")
    modem.deliver("+420777123456", "Ahoj")
    urc = client.wait_urc("+CMTI")
    assert urc.args == ["SM", "1"]
    lines, _ = client.command("AT+CMGR=1")
    assert lines[0].startswith("+CMGR: 0,,")
    message = decode(lines[1])
    assert isinstance(message, Deliver) and message.text == "Ahoj"
    assert client.command("AT+CMGD=1")[1].ok
    assert client.command("AT+CMGR=1")[1].error.code == 321  # type: ignore[union-attr]


def test_cmgl_lists_everything(make) -> None:
    modem, client = make()
    modem.deliver("+420777123456", "one")
    modem.deliver("+420777123456", "two")
    lines = (
        modem.wait_for(lambda m: len(m.core.memories["SM"]) == 2) and client.command("AT+CMGL=4")[0]
    )
    assert [line.split(",")[0] for line in lines[::2]] == ["+CMGL: 1", "+CMGL: 2"]


def test_routed_cmt_when_mt_is_2(make) -> None:
    modem, client = make()
    client.command("AT+CNMI=2,2,0,0,0")
    modem.deliver("+420777123456", "Ahoj")
    assert client.wait_urc("+CMT").pdu is not None


def test_pin_required_until_given(make) -> None:
    _, client = make(pin="1234")
    assert client.command("AT+CPIN?")[0] == ["+CPIN: SIM PIN"]
    assert client.command("AT+CMGF=0")[1].error.code == 311  # type: ignore[union-attr]
    assert client.command('AT+CPIN="0000"')[1].error.code == 16  # type: ignore[union-attr]
    assert client.command('AT+CPIN="1234"')[1].ok
    assert client.command("AT+CPIN?")[0] == ["+CPIN: READY"]


def test_sim_busy_after_pin(make) -> None:
    _, client = make(pin="1234", sim_busy_after_pin=2)
    client.command('AT+CPIN="1234"')
    assert client.command("AT+CMGF=0")[1].error.code == 14  # type: ignore[union-attr]
    assert client.command("AT+CMGF=0")[1].error.code == 14  # type: ignore[union-attr]
    assert client.command("AT+CMGF=0")[1].ok


def test_quirks_rssi_inside_responses_and_bare_prompt(make) -> None:
    _modem, client = make(huawei_rssi=True, bare_prompt=True)
    assert client.command("AT+CSQ")[0] == ["+CSQ: 21,99"]
    assert client.wait_urc("^RSSI").args == ["21"]
    [part] = encode_submit("+420777123456", "Ahoj")
    assert client.send_pdu(part.tpdu_length, part.pdu)[1].ok


def test_index0_storage(make) -> None:
    modem, client = make(index0=True)
    client.command("AT+CNMI=2,1,0,0,0")
    modem.deliver("+420777123456", "Ahoj")
    assert client.wait_urc("+CMTI").args == ["SM", "0"]


def test_storage_full_drops_new_messages(make) -> None:
    modem, client = make(storage_size=1)
    client.command("AT+CNMI=2,1,0,0,0")
    modem.deliver("+420777123456", "one")
    modem.deliver("+420777123456", "two")
    client.wait_urc("+CMTI")
    assert len(modem.core.memories["SM"]) == 1


def test_unplug_closes_the_device_and_replug_reboots(make, tmp_path) -> None:
    modem = VirtualModem(link=str(tmp_path / "gsmmodem0"))
    modem.start()
    try:
        client = ATClient(modem.path)
        client.command("ATE0")
        modem.unplug()
        with pytest.raises(Exception):  # noqa: B017 - pyserial raises SerialException/OSError
            client.command("AT", timeout=1)
        client.close()
        path = modem.replug()
        assert path == str(tmp_path / "gsmmodem0")
        client = ATClient(path)
        assert client.command("AT")[1].ok
        assert modem.core.echo  # rebooted: echo back on
        client.close()
    finally:
        modem.stop()


def test_text_mode_send_and_read(make) -> None:
    modem, client = make()
    assert client.command("ATE0")[1].ok  # no echo of the typed text to tell apart
    assert client.command("AT+CMGF=1")[1].ok
    client.port.write(client.engine.send('AT+CMGS="+420777123456"'))
    client._events(Prompt, 3.0)
    client.port.write(b"Hello text mode\x1a")
    lines, final = client.wait_final()
    assert final.ok and lines == ["+CMGS: 1"]
    assert modem.submissions[0].submit.text == "Hello text mode"
    modem.deliver("+420111222333", "Ahoj")
    modem.wait_for(lambda m: m.core.memories["SM"])
    lines, _ = client.command('AT+CMGL="ALL"')
    assert lines[0].startswith('+CMGL: 1,"REC UNREAD","+420111222333",,"')
    assert lines[1] == "Ahoj"
    lines, _ = client.command("AT+CMGR=1")
    assert lines[0].startswith('+CMGR: "REC READ","+420111222333"')
