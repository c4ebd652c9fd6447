"""Each real family's quirks through the driver, the virtual modem playing the family:
recognition, init extras, USSD forms, the family's reset (through the recovery
ladder), its hang-up, and its URC chatter."""

from __future__ import annotations

import pytest

from agent.cli import main
from agent.modem.profiles import profile_for
from agent.modem.virtual import VirtualModem
from agent.modem.virtual_profiles import virtual_config
from tests.waiting import eventually

FAMILIES = {
    # virtual profile: (family, reset command, hang-up command the driver uses)
    "huawei-e3372": ("Huawei E173/E3372", "AT^RESET", "AT+CHUP"),
    "simcom-sim800": ("SIMCom SIM800/SIM900", "AT+CFUN=1,1", "ATH"),
    "simcom-sim7600": ("SIMCom SIM7600", "AT+CRESET", "AT+CHUP"),
    "quectel-ec25": ("Quectel EC25/EG25", "AT+CFUN=1,1", "AT+CHUP"),
    "telit-le910": ("Telit LE910/HE910", "AT#REBOOT", "ATH"),
    "ublox-sara": ("u-blox SARA/LISA/TOBY", "AT+CFUN=16", "ATH"),
}
ANSWER = "Vas kredit je 77,10 Kc"


@pytest.fixture
def family_modem(tmp_path, request):
    vm = VirtualModem(
        virtual_config(request.param, ussd={"*101#": ANSWER}, reboot_seconds=0.1),
        link=str(tmp_path / "gsm0"),
    )
    vm.start()
    yield request.param, vm
    vm.stop()


def _sent(vm: VirtualModem, command: str) -> bool:
    return any(e.direction == "rx" and command.encode() in e.data for e in vm.log)


@pytest.mark.parametrize("family_modem", list(FAMILIES), indirect=True)
async def test_a_family_is_recognised_and_its_quirks_hold(family_modem, driver) -> None:
    name, vm = family_modem
    family, reset, hangup = FAMILIES[name]
    calls: list[str] = []

    async def on_call(number, when) -> None:
        calls.append(number)

    modem = driver(vm.path, reset_after=0.2, command_timeout=0.5)
    modem.on_call = on_call
    await modem.open()
    assert modem.profile.name == family
    assert (await modem.status()).family == family
    if name == "huawei-e3372":
        assert _sent(vm, "AT^CURC=0")
        vm.send_raw(b"\r\n^BOOT:20952433,0,0,0,72\r\n\r\n^MODE:5,4\r\n\r\n^RSSI:19\r\n")

    answer = await modem.ussd("*101#", timeout=3)  # in the family's own form
    assert answer.text == ANSWER
    result = await modem.send("+420777123456", "Ahoj")  # chatter does not disturb a send
    assert result.outcome == "sent" and modem.connected.is_set()

    vm.call("+420603123456", rings=10, interval=0.2)
    await eventually(lambda: calls, 5, "the call to be hung up")
    assert _sent(vm, hangup) and vm.calls_hung_up == ["+420603123456"]

    vm.hang("sms")
    assert (await modem.status()).problems  # a timeout: the ladder begins
    await eventually(lambda: vm.resets == 1 and modem.connected.is_set(), 10, "the reset")
    assert _sent(vm, reset)
    assert modem.ladder.state.resets_today == 1


def test_probe_names_the_family(tmp_path, capsys) -> None:
    vm = VirtualModem(virtual_config("quectel-ec25"), link=str(tmp_path / "gsm0"))
    vm.start()
    try:
        assert main(["probe", vm.path, "--timeout", "1"]) == 0
    finally:
        vm.stop()
    assert "family        Quectel EC25/EG25" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("maker", "model", "family"),
    [
        ("huawei", "E173", "huawei"),
        ("SIMCOM_Ltd", "SIMCOM_SIM800L", "simcom"),
        ("Quectel", "EG25", "quectel"),
        ("Telit", "HE910", "telit"),
        ("u-blox", "TOBY-L210", "ublox"),
        ("Wavecom", "WISMO", "generic"),
        (None, None, "generic"),
    ],
)
def test_profile_for_reads_cgmi_and_cgmm(maker, model, family) -> None:
    assert profile_for(maker, model).family == family


def test_an_unknown_virtual_profile_is_named() -> None:
    with pytest.raises(ValueError, match="'nokia'"):
        virtual_config("nokia")
