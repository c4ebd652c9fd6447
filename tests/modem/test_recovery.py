"""Unplug, replug, a hung modem, a reboot: the driver recovers and never sends twice."""

from __future__ import annotations

import asyncio
import termios

import pytest

from agent.modem import link as link_module
from agent.modem.interface import ModemError, Outcome
from tests.modem.conftest import Recorder
from tests.modem.waiting import until


async def test_unplug_then_replug_reconnects_and_reinitialises(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path)
    await modem.open()
    vm.unplug()
    await until(lambda: not modem.connected.is_set())
    failed = await modem.send("+420777123456", "while away")
    assert failed.outcome is Outcome.FAILED and failed.error_class == "transient"
    assert "not connected" in (failed.error or "")
    vm.replug()
    await asyncio.wait_for(modem.connected.wait(), 5)
    assert not vm.core.echo  # re-initialised after the "reboot"
    assert (await modem.send("+420777123456", "back")).outcome is Outcome.SENT


async def test_unplug_before_the_second_part_fails_it_and_sends_nothing_twice(
    virtual, driver
) -> None:
    vm = virtual()
    modem = driver(vm.path, send_retries=0)
    await modem.open()
    original = vm.core._cmgs

    def unplug_at_second_cmgs(upper: str):  # type: ignore[no-untyped-def]
        if len(vm.core.submissions) == 1:
            vm.unplug()  # the cable goes as part 2 is announced: no prompt comes
            return []
        return original(upper)

    vm.core._cmgs = unplug_at_second_cmgs  # type: ignore[method-assign]
    result = await modem.send("+420777123456", "y" * 400, message_id="m")
    assert [p.outcome for p in result.parts] == [Outcome.SENT, Outcome.FAILED, Outcome.NOT_SENT]
    assert result.outcome is Outcome.FAILED and result.error_class == "transient"
    vm.core._cmgs = original  # type: ignore[method-assign]
    vm.replug()
    await asyncio.wait_for(modem.connected.wait(), 5)
    assert [s.submit.concat.sequence for s in vm.submissions if s.submit.concat] == [1]


async def test_unplug_after_a_pdu_was_taken_makes_that_part_unknown(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path, send_retries=0)
    await modem.open()
    original = vm.core._pdu

    def take_then_unplug(pdu: str, *, aborted: bool):  # type: ignore[no-untyped-def]
        out = original(pdu, aborted=aborted)
        if len(vm.core.submissions) == 2:
            vm.unplug()  # part 2 went to the network, its +CMGS is lost with the cable
        return out

    vm.core._pdu = take_then_unplug  # type: ignore[method-assign]
    result = await modem.send("+420777123456", "y" * 400, message_id="m")
    assert [p.outcome for p in result.parts] == [
        Outcome.SENT,
        Outcome.UNKNOWN,
        Outcome.NOT_SENT,
    ]
    assert result.outcome is Outcome.UNKNOWN
    assert "may have been sent" in (result.error or "")
    vm.replug()
    await asyncio.wait_for(modem.connected.wait(), 5)
    assert len(vm.submissions) == 2  # nothing was resent after the replug


async def test_a_modem_that_stops_answering_is_reopened(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path, command_timeout=1.0)
    await modem.open()
    vm.core.config.silent = True
    status = await modem.status()
    assert not status.healthy
    await until(lambda: not modem.connected.is_set())
    vm.core.config.silent = False
    await asyncio.wait_for(modem.connected.wait(), 5)
    assert (await modem.status()).healthy


async def test_sms_ready_after_a_reboot_triggers_a_reinit(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path)
    await modem.open()
    vm.core.power_on()
    vm.send_raw(b"\r\nRDY\r\n\r\nSMS Ready\r\n")
    await until(lambda: vm.core.echo is False and modem.connected.is_set(), timeout=5)
    assert vm.core.cnmi[1] == 1


async def test_messages_arriving_while_unplugged_are_swept_after_replug(virtual, driver) -> None:
    vm = virtual()
    recorder = Recorder()
    modem = driver(vm.path, recorder)
    await modem.open()
    vm.unplug()
    vm.deliver("+420777123456", "while away")  # stored on the SIM, URC lost
    vm.replug()
    await until(lambda: recorder.messages, timeout=5)
    assert recorder.messages[0].text == "while away"


async def test_a_port_lost_right_after_the_last_init_answer_is_reopened(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path)
    await modem.open()
    link = modem.session.link
    hand_on = link._on_data
    pulled = asyncio.Event()

    def answer_then_unplug(data: bytes) -> None:
        last = modem.session.engine.pending == "AT+COPS=3,0"  # the last command of init
        hand_on(data)
        if last and modem.session.engine.pending is None and not pulled.is_set():
            # The cable goes right after the OK, before the reconnect sees that OK.
            pulled.set()
            vm.unplug()
            link._readable()  # the loop would call this next: end of file

    link._on_data = answer_then_unplug  # type: ignore[method-assign]
    vm.replug()  # a reboot: the driver reconnects and re-initialises
    await asyncio.wait_for(pulled.wait(), 5)
    vm.replug()
    await asyncio.wait_for(modem.connected.wait(), 5)
    assert link.is_open  # never "connected" on a closed port
    assert (await modem.send("+420777123456", "back")).outcome is Outcome.SENT


async def test_a_port_lost_during_the_first_open_is_left_to_the_caller(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path, reconnect_min=0.01)
    link = modem.session.link
    hand_on = link._on_data

    def answer_then_unplug(data: bytes) -> None:
        cmgf = modem.session.engine.pending == "AT+CMGF=0"
        hand_on(data)
        if cmgf and vm.plugged:
            vm.unplug()
            link._readable()  # end of file, in the middle of init

    link._on_data = answer_then_unplug  # type: ignore[method-assign]
    with pytest.raises(ModemError, match="init failed"):
        await modem.open()
    # open() failed, so its caller retries it; a reconnect of the driver's own would
    # race that retry for the port (two inits, one engine replaced under the other).
    assert modem._reconnecting is None
    link._on_data = hand_on  # type: ignore[method-assign]
    vm.replug()
    await modem.open()
    assert (await modem.send("+420777123456", "opened")).outcome is Outcome.SENT
    assert modem._reconnecting is None


async def test_a_device_that_vanishes_while_being_configured_is_tried_again(
    virtual, driver, monkeypatch
) -> None:
    vm = virtual()
    modem = driver(vm.path)
    await modem.open()
    real = link_module.serial.Serial
    calls = 0

    def vanishing(*args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:  # pyserial's tcsetattr/tcflush on a node that just went away
            raise termios.error(5, "Input/output error")
        return real(*args, **kwargs)

    monkeypatch.setattr(link_module.serial, "Serial", vanishing)
    vm.replug()
    await until(lambda: not modem.connected.is_set())
    await asyncio.wait_for(modem.connected.wait(), 5)
    assert calls >= 2
    assert (await modem.send("+420777123456", "back")).outcome is Outcome.SENT


async def test_an_unexpected_error_in_a_reconnect_does_not_end_reconnecting(
    virtual, driver, monkeypatch
) -> None:
    vm = virtual()
    modem = driver(vm.path)
    await modem.open()
    init = modem._init
    failures = 0

    async def buggy_init() -> None:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise RuntimeError("a bug in one init")
        await init()

    monkeypatch.setattr(modem, "_init", buggy_init)
    vm.replug()
    await until(lambda: not modem.connected.is_set())
    await asyncio.wait_for(modem.connected.wait(), 5)
    assert failures == 1 and modem.session.link.is_open
    assert (await modem.send("+420777123456", "back")).outcome is Outcome.SENT


async def test_a_port_that_vanishes_before_its_first_flush_is_closed_not_leaked(
    virtual, monkeypatch
) -> None:
    vm = virtual()
    link = link_module.SerialLink(vm.path, 115200, lambda data: None, lambda exc: None)

    def gone(self: object) -> None:
        raise termios.error(5, "Input/output error")

    monkeypatch.setattr(link_module.serial.Serial, "reset_input_buffer", gone)
    with pytest.raises(link_module.PortLost, match="gone while opening"):
        link.open()
    assert not link.is_open
    monkeypatch.undo()
    link.open()  # exclusive: a port leaked by the failed open would still hold the lock
    link.close()


async def test_a_send_retried_while_the_modem_reconnects_waits_for_no_half_init(
    virtual, driver
) -> None:
    vm = virtual(cms_error_rate=1.0, cms_error_code=500)  # CMS 500: transient, retried
    modem = driver(vm.path, send_retry_delay=0.1, reconnect_min=0.01)
    await modem.open()
    link = modem.session.link
    hand_on = link._on_data
    cpms = vm.core._cpms

    def slow_cpms(upper: str):  # type: ignore[no-untyped-def]
        return [(0.5, data) for _, data in cpms(upper)]  # the re-init lasts past the retry

    def error_then_reboot(data: bytes) -> None:
        hand_on(data)
        if b"+CMS ERROR" in data and "_cpms" not in vars(vm.core):
            vm.core._cpms = slow_cpms  # type: ignore[method-assign]
            vm.replug()

    link._on_data = error_then_reboot  # type: ignore[method-assign]
    result = await modem.send("+420777123456", "retried")
    rx = b"".join(e.data for e in vm.log if e.direction == "rx")
    # The retry never went into the re-init (a modem half set up after its reboot).
    assert rx.count(b"AT+CMGS=") == 1, rx
    assert result.outcome is Outcome.FAILED and result.error_class == "transient"
    assert "not connected" in (result.error or "")
    await asyncio.wait_for(modem.connected.wait(), 5)
