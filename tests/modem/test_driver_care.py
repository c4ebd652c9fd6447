"""The driver's calls and USSD against the virtual modem: a call is hung up once and
reported, or left to ring out; a USSD request waits for a send in progress."""

from __future__ import annotations

import asyncio

from tests.waiting import eventually


async def test_a_call_is_hung_up_once_and_reported_with_its_number(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path)
    calls: list[str] = []

    async def on_call(number, when) -> None:
        calls.append(number)

    modem.on_call = on_call
    await modem.open()
    vm.call("+420603123456", rings=10, interval=0.2)
    await eventually(lambda: calls, 5, "the call to be reported")
    assert vm.calls_hung_up == ["+420603123456"] and calls == ["+420603123456"]


async def test_without_reject_calls_it_rings_out_and_is_reported_then(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path, reject_calls=False)
    calls: list[str] = []

    async def on_call(number, when) -> None:
        calls.append(number)

    modem.on_call = on_call
    await modem.open()
    vm.call("+420603123456", rings=3, interval=0.1)
    await eventually(lambda: calls, 5, "the missed call")
    assert vm.calls_hung_up == [] and calls == ["+420603123456"]


async def test_ussd_waits_for_the_send_in_progress(virtual, driver) -> None:
    vm = virtual(cmgs_delay=0.5, ussd={"*101#": "Kredit 10 Kc"})
    modem = driver(vm.path, result_timeout=3.0)
    await modem.open()
    send = asyncio.create_task(modem.send("+420777123456", "Ahoj"))
    await eventually(lambda: any(e.data.startswith(b"AT+CMGS") for e in vm.log), 5, "the send")
    answer = await modem.ussd("*101#", timeout=3)
    assert (await send).outcome == "sent" and answer.text == "Kredit 10 Kc"
    # The USSD request left only after the modem had answered the send.
    log = list(vm.log)
    answered = next(i for i, e in enumerate(log) if e.direction == "tx" and b"+CMGS:" in e.data)
    asked = next(i for i, e in enumerate(log) if e.direction == "rx" and b"AT+CUSD" in e.data)
    assert answered < asked, log


async def test_registration_lost_longer_than_reset_after_resets_the_modem(virtual, driver) -> None:
    vm = virtual(reboot_seconds=0.1)
    modem = driver(vm.path, reset_after=0.3)
    await modem.open()
    vm.config.registration = 2  # searching, while the port answers
    await modem.status()
    assert vm.resets == 0  # not yet: it must last reset_after
    await eventually(lambda: _status_then(modem, vm), 5, "the reset for lost registration")
    vm.config.registration = 1
    await eventually(lambda: modem.connected.is_set(), 5, "the modem back")
    assert modem.ladder.state.resets_today == 1
    assert vm.resets == 1


async def _status_then(modem, vm) -> bool:
    if modem.connected.is_set():
        await modem.status()
    return vm.resets >= 1
