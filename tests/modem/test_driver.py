"""The AT driver against the virtual modem over a real pty."""

from __future__ import annotations

import asyncio

import pytest

from agent.modem.interface import ModemError, Outcome
from tests.modem.conftest import Recorder
from tests.modem.waiting import until


async def test_open_initialises_pdu_mode_echo_off_and_indications(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path)
    await modem.open()
    assert modem.connected.is_set()
    assert not vm.core.echo
    assert vm.core.cnmi == (2, 1, 0, 1, 0)
    sent = b"".join(e.data for e in vm.log if e.direction == "rx")
    assert sent.index(b"ATZ\r") < sent.index(b"ATE0\r") < sent.index(b"AT+CMGF=0\r")


async def test_send_single_part_returns_the_mr(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path)
    await modem.open()
    result = await modem.send("+420777123456", "Ahoj")
    assert result.outcome is Outcome.SENT and result.mrs == [1]
    [sub] = vm.submissions
    assert (sub.submit.recipient, sub.submit.text) == ("+420777123456", "Ahoj")


async def test_send_multipart_ucs2_one_cmgs_per_part(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path)
    await modem.open()
    text = "Příliš žluťoučký kůň úpěl ďábelské ódy. " * 4
    result = await modem.send("+420777123456", text)
    assert result.outcome is Outcome.SENT and len(result.parts) == 3
    subs = vm.submissions
    assert "".join(s.submit.text for s in subs) == text
    assert {s.submit.concat.reference for s in subs if s.submit.concat} == {
        subs[0].submit.concat.reference  # type: ignore[union-attr]
    }


async def test_status_report_routed_is_matched_to_the_sent_part(virtual, driver) -> None:
    vm = virtual()
    recorder = Recorder()
    modem = driver(vm.path, recorder)
    await modem.open()
    result = await modem.send("+420777123456", "Ahoj", report=True, message_id="m-1")
    await until(lambda: recorder.reports)
    [report] = recorder.reports
    assert (report.mr, report.message_id, report.part) == (result.mrs[0], "m-1", 1)
    assert report.delivered and report.final


async def test_status_report_stored_is_read_matched_and_deleted(virtual, driver) -> None:
    vm = virtual()
    recorder = Recorder()
    modem = driver(vm.path, recorder, status_report_ds=2)
    await modem.open()
    await modem.send("+420777123456", "Ahoj", report=True, message_id="m-2")
    await until(lambda: recorder.reports)
    assert recorder.reports[0].message_id == "m-2"
    await until(lambda: not vm.core.memories["SR"])


async def test_incoming_cmti_is_read_handed_on_then_deleted(virtual, driver) -> None:
    vm = virtual()
    recorder = Recorder()
    modem = driver(vm.path, recorder)
    await modem.open()
    vm.deliver("+420777123456", "Ahoj světe")
    await until(lambda: recorder.messages)
    [sms] = recorder.messages
    assert (sms.sender, sms.text, sms.memory) == ("+420777123456", "Ahoj světe", "SM")
    await until(lambda: not vm.core.memories["SM"])


async def test_incoming_is_kept_when_the_callback_fails(virtual, driver) -> None:
    vm = virtual()
    recorder = Recorder()
    recorder.fail = True
    modem = driver(vm.path, recorder, poll_incoming=False)  # only our sweep
    await modem.open()
    vm.deliver("+420777123456", "keep me")
    await until(lambda: any(e.data.startswith(b"AT+CMGR") for e in vm.log))
    await modem.session.command("AT")  # the read finished (commands are serialised)
    assert len(vm.core.memories["SM"]) == 1
    recorder.fail = False
    assert await modem.sweep() == 1
    assert recorder.messages[0].text == "keep me" and not vm.core.memories["SM"]


async def test_routed_cmt_is_handed_on(virtual, driver) -> None:
    vm = virtual()
    recorder = Recorder()
    modem = driver(vm.path, recorder)
    await modem.open()
    vm.core.cnmi = (2, 2, 0, 1, 0)
    vm.deliver("+420777123456", "routed")
    await until(lambda: recorder.messages)
    assert recorder.messages[0].memory is None


async def test_startup_sweep_reads_messages_stored_while_down(virtual, driver) -> None:
    vm = virtual(index0=True)
    vm.deliver("+420777123456", "one")
    vm.deliver("+420777123456", "two")
    vm.wait_for(lambda m: len(m.core.memories["SM"]) == 2)
    recorder = Recorder()
    modem = driver(vm.path, recorder)
    await modem.open()
    await until(lambda: len(recorder.messages) == 2)
    assert [m.index for m in recorder.messages] == [0, 1]
    await until(lambda: not vm.core.memories["SM"])


async def test_pin_is_entered_and_sim_busy_is_waited_out(virtual, driver) -> None:
    vm = virtual(pin="1234", sim_busy_after_pin=3)
    modem = driver(vm.path, pin="1234")
    await modem.open()
    assert vm.core.pin_ok
    assert (await modem.send("+420777123456", "x")).outcome is Outcome.SENT


async def test_missing_pin_is_a_clear_error(virtual, driver) -> None:
    vm = virtual(pin="1234")
    modem = driver(vm.path)
    with pytest.raises(ModemError, match=r"SIM PIN required \(set 'pin' in the account\)"):
        await modem.open()


async def test_wrong_pin_is_not_retried(virtual, driver) -> None:
    vm = virtual(pin="1234")
    modem = driver(vm.path, pin="9999")
    with pytest.raises(ModemError, match="rejected the PIN; not retried"):
        await modem.open()
    tries = [e for e in vm.log if e.direction == "rx" and e.data.startswith(b'AT+CPIN="')]
    assert len(tries) == 1


async def test_cpin_without_ok_is_accepted(virtual, driver) -> None:
    vm = virtual(cpin_no_ok=True)
    modem = driver(vm.path, command_timeout=1.0)
    await modem.open()
    assert modem.connected.is_set()


async def test_huawei_quirks_rssi_inside_responses(virtual, driver) -> None:
    vm = virtual(huawei_rssi=True, manufacturer="huawei", bare_prompt=True)
    modem = driver(vm.path)
    await modem.open()
    assert (await modem.send("+420777123456", "x")).outcome is Outcome.SENT
    status = await modem.status()
    assert status.rssi == 21 and status.manufacturer == "huawei"


async def test_permanent_cms_error_fails_without_retry(virtual, driver) -> None:
    vm = virtual(cms_error_rate=1.0, cms_error_code=304)
    modem = driver(vm.path)
    await modem.open()
    result = await modem.send("+420777123456", "x")
    assert result.outcome is Outcome.FAILED and result.error_class == "permanent"
    assert result.parts[0].tries == 1
    assert "invalid PDU mode parameter" in (result.error or "")


async def test_transient_cms_error_is_retried_then_fails(virtual, driver) -> None:
    vm = virtual(cms_error_rate=1.0, cms_error_code=42)
    modem = driver(vm.path, send_retries=2)
    await modem.open()
    result = await modem.send("+420777123456", "x")
    assert result.outcome is Outcome.FAILED and result.parts[0].tries == 3
    assert result.error_class == "transient"


async def test_multipart_stops_at_the_first_failing_part(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path, send_retries=0)
    await modem.open()
    vm.core.config.cms_error_rate = 0.0
    original = vm.core._pdu

    def fail_second(pdu: str, *, aborted: bool):  # type: ignore[no-untyped-def]
        if len(vm.core.submissions) == 1:
            vm.core._pdu_length = None
            return [(0.0, b"\r\n+CMS ERROR: 21\r\n")]
        return original(pdu, aborted=aborted)

    vm.core._pdu = fail_second  # type: ignore[method-assign]
    result = await modem.send("+420777123456", "x" * 400)
    assert [p.outcome for p in result.parts] == [Outcome.SENT, Outcome.FAILED, Outcome.NOT_SENT]
    assert result.outcome is Outcome.FAILED


async def test_timeout_after_ctrl_z_is_unknown_and_not_resent(virtual, driver) -> None:
    vm = virtual(cmgs_delay=0.8)
    recorder = Recorder()
    modem = driver(vm.path, recorder, result_timeout=0.2)
    await modem.open()
    result = await modem.send("+420777123456", "x", report=True, message_id="late")
    assert result.outcome is Outcome.UNKNOWN
    assert "may have been sent" in (result.error or "")
    assert len(vm.submissions) == 1  # the modem did take it: it must not be sent again
    # The late +CMGS still comes; the status report then finds the message.
    await until(lambda: recorder.reports, timeout=5)
    assert recorder.reports[0].message_id == "late"
    assert modem.connected.is_set()
    cmgs = [e for e in vm.log if e.direction == "rx" and e.data.startswith(b"AT+CMGS")]
    assert len(cmgs) == 1


async def test_a_message_read_twice_is_handed_on_once(virtual, driver) -> None:
    vm = virtual()
    recorder = Recorder()
    modem = driver(vm.path, recorder)
    await modem.open()
    vm.deliver("+420777123456", "once")
    await until(lambda: recorder.messages)
    pdu = recorder.messages[0].pdu
    vm.deliver_pdu(pdu)  # the same message again, as after a delete that never happened
    await until(lambda: any(e.data.startswith(b"AT+CMGD") for e in vm.log[-6:]))
    await until(lambda: not vm.core.memories["SM"])
    assert len(recorder.messages) == 1


async def test_status_reports_identity_signal_and_storage(virtual, driver) -> None:
    vm = virtual(rssi=18, registration=5)
    modem = driver(vm.path)
    await modem.open()
    status = await modem.status()
    assert status.imei == "356938035643809" and status.imsi == "230011234567890"
    assert (status.signal_dbm, status.signal_bars) == (-77, 3)
    assert status.registration == 5 and status.registration_text == "registered, roaming"
    assert status.operator == "Virtual Operator" and status.smsc == "+420603052000"
    assert (status.storage, status.storage_used, status.storage_total) == ("SM", 0, 20)
    assert status.sim == "READY" and status.healthy


async def test_sends_to_two_modems_run_in_parallel(virtual, driver) -> None:
    vm1, vm2 = virtual(cmgs_delay=0.5), virtual(cmgs_delay=0.5)
    m1, m2 = driver(vm1.path), driver(vm2.path)
    await asyncio.gather(m1.open(), m2.open())
    r1, r2 = await asyncio.gather(m1.send("+420777123456", "a"), m2.send("+420777123456", "b"))
    assert r1.outcome is r2.outcome is Outcome.SENT

    def pdu_in(vm) -> float:  # type: ignore[no-untyped-def]
        return next(e.time for e in vm.log if e.direction == "rx" and e.data.endswith(b"\x1a"))

    def cmgs_out(vm) -> float:  # type: ignore[no-untyped-def]
        # The answer may reach the log in pieces, and the log may trail the pty by a
        # moment: wait for it, then take the time of the piece that completed it.
        def completed(vm):  # type: ignore[no-untyped-def]
            sent = b""
            for e in list(vm.log):
                if e.direction == "tx":
                    sent += e.data
                    if b"+CMGS:" in sent:
                        return e.time
            return None

        return vm.wait_for(completed, 5)

    # Each modem had its PDU before the other answered: neither waited for the other.
    assert pdu_in(vm2) < cmgs_out(vm1) and pdu_in(vm1) < cmgs_out(vm2)


async def test_sends_on_one_modem_are_serialised(virtual, driver) -> None:
    vm = virtual()
    modem = driver(vm.path)
    await modem.open()
    results = await asyncio.gather(
        *(modem.send("+420777123456", f"message {i} " * 20) for i in range(4))
    )
    assert all(r.outcome is Outcome.SENT for r in results)
    refs = [s.submit.concat.reference for s in vm.submissions if s.submit.concat]
    # The parts of one message are consecutive: no interleaving.
    assert refs == sorted(refs, key=refs.index) and len(set(refs)) == 4


async def test_a_full_storage_is_reported_then_emptied_by_the_startup_sweep(
    virtual, driver
) -> None:
    vm = virtual(storage_size=2)
    vm.deliver("+420777123456", "one")
    vm.deliver("+420777123456", "two")
    vm.deliver("+420777123456", "three: refused, storage full")
    vm.wait_for(lambda m: len(m.core.memories["SM"]) == 2)
    probe = driver(vm.path, poll_incoming=False)
    await probe.open()
    assert (
        "SMS storage full: incoming messages are being refused" in (await probe.status()).problems
    )
    await probe.close()
    recorder = Recorder()
    modem = driver(vm.path, recorder)
    await modem.open()
    await until(lambda: len(recorder.messages) == 2 and not vm.core.memories["SM"])
    assert (await modem.status()).healthy


async def test_cmti_for_a_memory_the_modem_refuses_reads_nothing(virtual, driver) -> None:
    vm = virtual()
    recorder = Recorder()
    modem = driver(vm.path, recorder, poll_incoming=False)  # no sweep in between
    await modem.open()
    vm.core.cnmi = (2, 0, 0, 1, 0)  # store silently: only our fake +CMTI announces
    vm.deliver("+420777123456", "stored in SM at 1")
    vm.wait_for(lambda m: m.core.memories["SM"])
    vm.send_raw(b'\r\n+CMTI: "XX",1\r\n')  # a memory this modem does not have
    await until(lambda: any(e.data.startswith(b'AT+CPMS="XX"') for e in vm.log))
    await modem.session.command("AT")  # commands are serialised: the attempt is over
    assert recorder.messages == []  # SM slot 1 was not read in XX's place
    assert not any(e.data.startswith(b"AT+CMGR") for e in vm.log)
    assert len(vm.core.memories["SM"]) == 1


async def test_a_send_cancelled_as_a_part_result_arrives_sends_no_further_part(
    virtual, driver
) -> None:
    vm = virtual()
    modem = driver(vm.path)
    await modem.open()
    link = modem.session.link
    hand_on = link._on_data
    sending: asyncio.Task[object] | None = None

    def result_then_cancel(data: bytes) -> None:
        submitting = (modem.session.engine.pending or "").startswith("AT+CMGS")
        hand_on(data)
        if submitting and modem.session.engine.pending is None and sending is not None:
            sending.cancel()  # in the same turn of the loop as part 1's OK
            link._on_data = hand_on  # type: ignore[method-assign]

    link._on_data = result_then_cancel  # type: ignore[method-assign]
    sending = asyncio.create_task(modem.send("+420777123456", "y" * 400))
    with pytest.raises(asyncio.CancelledError):
        await sending
    assert len(vm.submissions) == 1  # part 1 only: the cancel was not swallowed


async def test_close_ends_a_send_waiting_for_its_result_and_those_queued(virtual, driver) -> None:
    vm = virtual(cmgs_delay=30.0)  # the network never answers while we wait
    modem = driver(vm.path, result_timeout=60.0)
    await modem.open()
    first = asyncio.create_task(modem.send("+420777123456", "first"))
    second = asyncio.create_task(modem.send("+420777123456", "second"))
    await until(lambda: vm.submissions)
    await asyncio.wait_for(modem.close(), 2)
    done, _ = await asyncio.wait({first, second}, timeout=2)
    assert done == {first, second}
    assert first.result().outcome is Outcome.UNKNOWN  # it may have left: never resent
    assert second.result().outcome is Outcome.FAILED
    assert "not connected" in (second.result().error or "")


async def test_a_failing_urc_handler_loses_nothing_after_it_in_the_same_read(
    virtual, driver
) -> None:
    vm = virtual()
    modem = driver(vm.path)
    await modem.open()
    link = modem.session.link
    hand_on = link._on_data

    def broken(urc: object) -> None:
        raise RuntimeError("a bug in a URC handler")

    modem.session._on_urc = broken
    # A URC and the command's OK in one read: the OK must still end the command.
    link._on_data = lambda data: hand_on(b'\r\n+CMTI: "SM",1\r\n' + data)  # type: ignore[method-assign]
    response = await modem.session.command("AT", 1.0)
    assert response.ok
