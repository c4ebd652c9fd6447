"""The virtual modem's hangs, functional reset, USSD and incoming calls, over a real pty."""

from __future__ import annotations

import os
import time

import pytest

from agent.modem.at import split_args
from agent.modem.ussd import parse_cusd
from agent.modem.virtual import VirtualModem
from agent.modem.virtual_core import VirtualConfig
from tests.modem.atclient import ATClient


@pytest.fixture
def modem(tmp_path, request):
    config = getattr(request, "param", {})
    modem = VirtualModem(VirtualConfig(**config), link=str(tmp_path / "gsm0"))
    modem.start()
    yield modem
    modem.stop()


def test_an_sms_hang_answers_only_basics_until_the_reset_reenumerates_it(modem) -> None:
    client = ATClient(modem.path)
    old = os.path.realpath(modem.path)
    modem.hang("sms")
    assert client.command("AT")[1].ok
    with pytest.raises(TimeoutError):
        client.command("AT+CSQ", timeout=0.5)
    client.engine.expire()
    assert client.command("AT+CFUN=1,1")[1].ok
    modem.wait_for(lambda m: not m.plugged, timeout=3)
    modem.wait_for(lambda m: m.plugged, timeout=3)
    client.close()
    assert modem.resets == 1
    client = ATClient(modem.path)  # a new device node, rebooted: echo on, answers again
    assert client.command("AT+CSQ")[0] == ["+CSQ: 21,99"]
    assert os.path.realpath(modem.path) != old or modem.path  # the link follows
    client.close()


def test_a_total_hang_ignores_even_the_reset_and_a_forever_hang_survives_replug(modem) -> None:
    client = ATClient(modem.path)
    modem.hang("total")
    with pytest.raises(TimeoutError):
        client.command("AT+CFUN=1,1", timeout=0.5)
    client.close()
    modem.replug()  # a replug cures a total hang
    client = ATClient(modem.path)
    assert client.command("AT")[1].ok
    modem.hang("forever")
    client.close()
    modem.replug()
    client = ATClient(modem.path)
    with pytest.raises(TimeoutError):
        client.command("AT", timeout=0.5)
    client.close()


@pytest.mark.parametrize(
    "modem", [{"ussd": {"*101#": "Váš kredit je 153,47 Kč"}, "ussd_encoding": f}
              for f in ("text", "ucs2", "gsm7hex")], indirect=True
)  # fmt: skip
def test_cusd_answers_in_the_configured_form_and_decodes_back(modem) -> None:
    client = ATClient(modem.path)
    form = modem.config.ussd_encoding
    code = "*101#" if form != "gsm7hex" else "AA182C3602"
    assert client.command(f'AT+CUSD=1,"{code}",15')[1].ok
    urc = client.wait_urc("+CUSD")
    answer = parse_cusd(urc.args)
    # GSM 7-bit has no š or č: the network sends them without their diacritics.
    expected = "Váš kredit je 153,47 Kč" if form == "ucs2" else "Vas kredit je 153,47 Kc"
    assert (answer.status, answer.text) == (0, expected)
    assert modem.ussd_requests == ["*101#"]
    client.close()


def test_an_unknown_ussd_code_is_not_supported(modem) -> None:
    client = ATClient(modem.path)
    assert client.command('AT+CUSD=1,"*999#",15')[1].ok
    assert client.wait_urc("+CUSD").args == ["4"]
    client.close()


def test_an_incoming_call_rings_with_clip_until_ath(modem) -> None:
    client = ATClient(modem.path)
    assert client.command("AT+CLIP=1")[1].ok
    modem.call("+420603123456", rings=5, interval=0.2)
    client.wait_urc("RING")
    clip = client.wait_urc("+CLIP")
    assert split_args(clip.line.split(":", 1)[1])[0] == "+420603123456"
    assert client.command("ATH")[1].ok
    assert modem.calls_hung_up == ["+420603123456"]
    client.urcs.clear()
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        client.engine.receive_data(client.port.read(4096)) and None
    assert not any(u.name == "RING" for u in client.urcs)
    client.close()


def test_cring_and_chup_and_a_caller_who_gives_up(modem) -> None:
    client = ATClient(modem.path)
    assert client.command("AT+CRC=1")[1].ok
    modem.call("+420603123456", rings=1, interval=0.1)
    assert client.wait_urc("+CRING").args == ["VOICE"]
    client.wait_urc("NO CARRIER")
    assert client.command("AT+CHUP")[1].ok  # nothing to hang up: still OK
    assert modem.calls_hung_up == []
    client.close()
