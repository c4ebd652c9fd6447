"""The libgammu backend, through libgammu's `at` connection, against the virtual modem."""

from __future__ import annotations

import asyncio

import pytest

from agent.modem.gammu_backend import GammuModem
from agent.modem.interface import ModemError, Outcome
from tests.modem.conftest import Recorder, fast_config

pytestmark = pytest.mark.peer("gammu")


async def test_libgammu_sends_receives_and_reads_status(virtual) -> None:
    vm = virtual()
    recorder = Recorder()
    modem = GammuModem(fast_config(vm.path), on_message=recorder.message, on_report=recorder.report)
    await modem.open()
    try:
        status = await modem.status()
        assert status.imei == "356938035643809" and status.manufacturer == "smsbridge"
        assert status.signal_dbm == -71 and status.registration == 1
        assert status.smsc == "+420603052000" and status.storage_total == 20

        text = "Příliš žluťoučký kůň úpěl ďábelské ódy. " * 3
        result = await modem.send("+420777123456", text, report=True, message_id="g-1")
        assert result.outcome is Outcome.SENT and len(result.parts) == 2
        assert "".join(s.submit.text for s in vm.submissions) == text
        assert all(s.submit.report_requested for s in vm.submissions)
        assert result.mrs == [s.mr for s in vm.submissions]

        vm.deliver("+420111222333", "incoming through libgammu")
        vm.wait_for(lambda m: m.core.memories["SM"])
        assert await modem.sweep() >= 1
        assert [m.text for m in recorder.messages] == ["incoming through libgammu"]
        assert not vm.core.memories["SM"]
    finally:
        await modem.close()


async def test_libgammu_pin_required_is_a_clear_error(virtual) -> None:
    vm = virtual(pin="1234")
    modem = GammuModem(fast_config(vm.path, poll_incoming=False))
    try:
        with pytest.raises(ModemError, match=r"SIM PIN required \(set 'pin' in the account\)"):
            await modem.open()
    finally:
        await modem.close()


async def test_libgammu_backend_reconnects_after_unplug_and_never_reports_sent(virtual) -> None:
    vm = virtual()
    modem = GammuModem(fast_config(vm.path, poll_incoming=False, reconnect_min=0.2))
    await modem.open()
    try:
        vm.unplug()
        lost = await modem.send("+420777123456", "while unplugged")
        assert lost.outcome in (Outcome.UNKNOWN, Outcome.FAILED)
        assert not modem.connected.is_set()
        vm.replug()
        await asyncio.wait_for(modem.connected.wait(), 30)
        assert (await modem.send("+420777123456", "back")).outcome is Outcome.SENT
        assert [s.submit.text for s in vm.submissions] == ["back"]
    finally:
        await modem.close()


async def test_libgammu_sends_the_validity_and_flash_it_is_given(virtual) -> None:
    vm = virtual()
    modem = GammuModem(fast_config(vm.path))
    await modem.open()
    try:
        result = await modem.send("+420777123456", "code 1234", validity_minutes=115, flash=True)
        assert result.outcome is Outcome.SENT
        [sent] = vm.submissions
        assert sent.submit.validity_minutes == 115 and sent.submit.message_class == 0
    finally:
        await modem.close()
