"""The smstools3 line against spool directories that the test moves files through the
way smsd does (rename for sent/failed, write-in-place for incoming). The real smsd is
in test_smstools_smsd.py."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.spool.events import (
    SpoolDelivered,
    SpoolDispatched,
    SpoolFailed,
    SpoolJob,
    SpoolProblem,
    SpoolReceived,
    SpoolSent,
)
from agent.spool.smstools_codec import parse_sent
from agent.spool.smstools_line import SmstoolsConfig, SmstoolsLine
from agent.spool.smstools_state import LineState, PendingJob, stage
from tests.spool.recorder import Recorder


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root
        for d in ("outgoing", "sent", "failed", "incoming", "state"):
            (root / d).mkdir()
        self.outgoing, self.sent, self.failed, self.incoming = (
            root / d for d in ("outgoing", "sent", "failed", "incoming")
        )

    def config(self, **kw: object) -> SmstoolsConfig:
        values: dict[str, object] = {
            "in": str(self.incoming),
            "out": str(self.outgoing),
            "sent": str(self.sent),
            "failed": str(self.failed),
            "state_dir": str(self.root / "state"),
            "settle_seconds": 0.2,
            "retry_seconds": 0.1,
        }
        values.update(kw)
        return SmstoolsConfig.from_account(values)

    def our_file(self) -> Path:
        (path,) = [p for p in self.outgoing.iterdir() if not p.name.startswith(".")]
        return path

    def smsd_moves(self, src: Path, dest_dir: Path, headers: str) -> Path:
        """What smsd does: add its headers before the empty line, rename into dest_dir."""
        head, body = src.read_bytes().split(b"\n\n", 1)
        tmp = src.with_name(src.name + ".new")
        tmp.write_bytes(head + b"\n" + headers.encode() + b"\n\n" + body)
        os.replace(tmp, dest_dir / src.name)
        src.unlink(missing_ok=True)
        return dest_dir / src.name

    def smsd_receives(self, name: str, content: bytes, where: Path | None = None) -> Path:
        path = (where or self.incoming) / name
        with open(path, "wb") as f:  # written in place, like smsd's mkstemp file
            f.write(content)
        return path


SENT_HEADERS = "Modem: GSM1\nSent: 24-05-02 10:15:07\nSending_time: 6\nMessage_id: 117\nIMSI: "
INCOMING = (
    b"From: 420777123456\nFrom_TOA: 91 international, ISDN/telephone\n"
    b"From_SMSC: 420603052000\nSent: 24-05-02 10:20:00\nReceived: 24-05-02 10:20:05\n"
    b"Subject: GSM1\nModem: GSM1\nIMSI: \nIMEI: \nReport: no\nAlphabet: ISO\nLength: 5\n\nAhoj!"
)


async def barrier(spool: Spool, rec: Recorder, name: str = "GSM1.barrier") -> None:
    """Write a good incoming file and wait for its Received: the line takes files in the
    order it hears of them, so whatever was written before has been handled (or ignored)
    by then — a wait on an event, not a guess at how long the line needs."""
    spool.smsd_receives(name, INCOMING)
    event = await rec.next()
    assert isinstance(event, SpoolReceived), f"expected nothing before the barrier, got {event!r}"
    assert event.source_id == name


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path)


@pytest.fixture
async def started(spool: Spool) -> AsyncIterator[tuple[SmstoolsLine, Recorder]]:
    rec = Recorder()
    line = SmstoolsLine("gsm", spool.config(), rec)
    await line.start()
    yield line, rec
    await line.stop()


JOB = SpoolJob(id="m-1", to="+420 777 123 456", text="Dobrý den", report=True)


async def test_submit_writes_one_complete_file_and_reports_dispatched(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    line, rec = started
    await line.submit(JOB)
    assert await rec.next() == SpoolDispatched(line="gsm", job_id="m-1")
    path = spool.our_file()
    assert path.name.startswith("smsbridge-m-1-")
    assert (
        path.read_bytes()
        == (
            "To: 420777123456\nAlphabet: UTF-8\nReport: yes\nX-Smsbridge-Id: m-1\n\nDobrý den"
        ).encode()
    )
    assert path.stat().st_mode & 0o777 == 0o660  # smsd (another user) must rewrite it
    assert line.health().pending == 1


async def test_submitting_the_same_job_again_writes_no_second_file(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    line, rec = started
    await line.submit(JOB)
    await line.submit(JOB)
    assert len(list(spool.outgoing.iterdir())) == 1
    assert isinstance(await rec.next(), SpoolDispatched)
    assert isinstance(await rec.next(), SpoolDispatched)  # acknowledged again, sent once


async def test_account_modem_becomes_the_queue_header(spool: Spool) -> None:
    rec = Recorder()
    line = SmstoolsLine("gsm", spool.config(modem="GSM2"), rec)
    await line.start()
    try:
        await line.submit(JOB)
        assert b"\nQueue: GSM2\n" in spool.our_file().read_bytes()
        assert any("Queue: GSM2" in t for t in line.health().cannot_know)
    finally:
        await line.stop()


async def test_file_in_sent_becomes_sent_event_for_the_job(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    line, rec = started
    await line.submit(JOB)
    await rec.next()
    spool.smsd_moves(spool.our_file(), spool.sent, SENT_HEADERS)
    event = await rec.next()
    assert isinstance(event, SpoolSent)
    assert (event.job_id, event.modem, event.message_ref) == ("m-1", "GSM1", 117)
    await line.idle()
    assert line.health().pending == 0


async def test_file_in_failed_becomes_failed_event_with_smsd_reason(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    line, rec = started
    await line.submit(JOB)
    await rec.next()
    spool.smsd_moves(
        spool.our_file(),
        spool.failed,
        "Modem: GSM1\nIMSI: 1\nFail_reason: +CMS ERROR: 38\nFailed: 24-05-02 10:16:41",
    )
    event = await rec.next()
    assert isinstance(event, SpoolFailed)
    assert (event.job_id, event.reason, event.detail) == ("m-1", "cms-error:38", "+CMS ERROR: 38")


async def test_sent_file_is_matched_by_job_id_when_smsd_renamed_it(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    line, rec = started
    await line.submit(JOB)
    await rec.next()
    ours = spool.our_file()
    renamed = ours.rename(spool.outgoing / "GSM1.xY12ab")  # keep_filename = no
    spool.smsd_moves(renamed, spool.sent, SENT_HEADERS + "\nOriginal_filename: " + ours.name)
    assert isinstance(await rec.next(), SpoolSent)


async def test_sent_file_under_smsd_lock_waits_for_the_lock(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    line, rec = started
    await line.submit(JOB)
    await rec.next()
    ours = spool.our_file()
    lock = spool.sent / f"{ours.name}.LOCK"
    lock.write_bytes(b"")
    spool.smsd_moves(ours, spool.sent, SENT_HEADERS)
    await barrier(spool, rec)  # the locked file was seen and left alone
    await line.idle()
    assert rec.empty()
    lock.unlink()
    assert isinstance(await rec.next(), SpoolSent)


async def test_other_programs_files_in_sent_are_left_alone(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    line, rec = started
    await line.submit(JOB)
    await rec.next()
    other = spool.sent / "someone-else"
    other.write_bytes(b"To: 1\nModem: GSM1\nSent: 24-05-02 10:15:07\n\nhi")
    await barrier(spool, rec)
    await line.idle()
    assert rec.empty()
    assert other.exists()


async def test_status_report_after_sent_becomes_delivered_for_the_job(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    line, rec = started
    await line.submit(JOB)
    await rec.next()
    spool.smsd_moves(spool.our_file(), spool.sent, SENT_HEADERS)
    await rec.next()
    spool.smsd_receives(
        "GSM1.rep001",
        b"From: 420777123456\nModem: GSM1\nAlphabet: ISO\nUDH: no\n\nSMS STATUS REPORT\n"
        b"Message_id: 117\nDischarge_timestamp: 24-05-02 10:15:09\n"
        b"Status: 0,Ok,short message received by the SME",
    )
    event = await rec.next()
    assert isinstance(event, SpoolDelivered)
    assert (event.job_id, event.status, event.message_ref) == ("m-1", 0, 117)


async def test_failed_delivery_report_is_a_failed_event(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    _line, rec = started
    spool.smsd_receives(
        "GSM1.rep002",
        b"From: 420777999999\n\nSMS STATUS REPORT\nMessage_id: 9\n"
        b"Status: 70,Error,SM validity period expired",
    )
    event = await rec.next()
    assert isinstance(event, SpoolFailed)
    assert (event.job_id, event.reason) == (None, "not-delivered:70")


async def test_incoming_file_becomes_received_then_is_archived(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    line, rec = started
    path = spool.smsd_receives("GSM1.aUarxd", INCOMING)
    event = await rec.next()
    assert isinstance(event, SpoolReceived)
    assert (event.sender, event.text, event.source_id) == ("420777123456", "Ahoj!", "GSM1.aUarxd")
    await line.idle()
    assert not path.exists()
    assert (spool.root / "state" / "archive" / "GSM1.aUarxd").read_bytes() == INCOMING


async def test_incoming_file_can_be_deleted_instead_of_archived(spool: Spool) -> None:
    rec = Recorder()
    line = SmstoolsLine("gsm", spool.config(delete_incoming=True), rec)
    await line.start()
    try:
        path = spool.smsd_receives("GSM1.aaaaaa", INCOMING)
        assert isinstance(await rec.next(), SpoolReceived)
        await line.idle()
        assert not path.exists()
        assert not (spool.root / "state" / "archive").exists()
    finally:
        await line.stop()


async def test_incoming_stays_until_the_callback_stored_it(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    line, rec = started
    rec.fail_next = 2
    path = spool.smsd_receives("GSM1.retry1", INCOMING)
    assert isinstance(await rec.next(), SpoolReceived)  # the third offer is taken
    assert rec.fail_next == 0
    await line.idle()
    assert not path.exists()
    assert "outbox full" in (line.health().last_error or "")


async def test_malformed_incoming_is_moved_aside_and_reported(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    _line, rec = started
    spool.smsd_receives("GSM1.broken", b"Modem: GSM1\n\nno sender")
    event = await rec.next()
    assert isinstance(event, SpoolProblem)
    assert "'From:'" in event.detail
    assert event.kept_at is not None
    assert Path(event.kept_at).read_bytes() == b"Modem: GSM1\n\nno sender"
    assert not (spool.incoming / "GSM1.broken").exists()


async def test_smsd_private_files_are_ignored(
    spool: Spool, started: tuple[SmstoolsLine, Recorder]
) -> None:
    line, rec = started
    for name in ("GSM1-concatenated", "smsd_script.abc", ".hidden", "x.LOCK", "LOCKED.x"):
        spool.smsd_receives(name, b"garbage")
    await barrier(spool, rec)
    await line.idle()
    assert rec.empty()
    assert sorted(p.name for p in spool.incoming.iterdir()) == sorted(
        ["GSM1-concatenated", "smsd_script.abc", ".hidden", "x.LOCK", "LOCKED.x"]
    )


async def test_what_arrived_while_stopped_is_handled_at_start(spool: Spool) -> None:
    rec = Recorder()
    line = SmstoolsLine("gsm", spool.config(), rec)
    await line.start()
    await line.submit(JOB)
    await rec.next()
    await line.stop()
    # while the agent is down, smsd sends our file and receives a message
    spool.smsd_moves(spool.our_file(), spool.sent, SENT_HEADERS)
    incoming = spool.smsd_receives("GSM1.offline", INCOMING)
    os.utime(incoming, (1, 1))  # long finished
    line = SmstoolsLine("gsm", spool.config(), rec)
    await line.start()
    try:
        got = {type(await rec.next()), type(await rec.next())}
        assert got == {SpoolSent, SpoolReceived}
    finally:
        await line.stop()


async def test_a_submit_cut_by_a_crash_is_finished_at_start(spool: Spool) -> None:
    state = LineState(spool.root / "state")
    stage(spool.outgoing, "smsbridge-m-9-1", b"To: 1\n\nhello")
    state.add_pending(
        PendingJob(job_id="m-9", name="smsbridge-m-9-1", to="1", report=False, submitted=1e10)
    )
    stage(spool.outgoing, "smsbridge-m-8-1", b"To: 1\n\nnever acknowledged")
    rec = Recorder()
    line = SmstoolsLine("gsm", spool.config(), rec)
    await line.start()
    try:
        assert sorted(p.name for p in spool.outgoing.iterdir()) == ["smsbridge-m-9-1"]
    finally:
        await line.stop()


async def test_without_sent_and_failed_the_line_says_what_it_cannot_know(
    spool: Spool,
) -> None:
    line = SmstoolsLine("gsm", spool.config(sent=None, failed=None), Recorder())
    await line.start()
    try:
        health = line.health()
        assert health.running
        assert "dispatched" in health.can_know
        assert "received" in health.can_know
        assert any(t.startswith("sent and delivered") for t in health.cannot_know)
        assert any(t.startswith("failed") for t in health.cannot_know)
    finally:
        await line.stop()


def test_bad_account_config_names_the_key() -> None:
    with pytest.raises(Exception, match=r"\$.out"):
        SmstoolsConfig.from_account({"in": "/x", "out": 5, "state_dir": "/s"})


async def test_missing_spool_directory_is_a_clear_error(spool: Spool) -> None:
    line = SmstoolsLine("gsm", spool.config(sent=str(spool.root / "nope")), Recorder())
    with pytest.raises(FileNotFoundError, match=r"no directory .*nope"):
        await line.start()


def test_sent_headers_used_here_parse() -> None:
    assert parse_sent(b"To: 1\n" + SENT_HEADERS.encode() + b"\n\nx").message_ids == (117,)


async def test_reports_in_their_own_directory_are_read_too(spool: Spool) -> None:
    report_dir = spool.root / "report"
    report_dir.mkdir()
    rec = Recorder()
    line = SmstoolsLine("gsm", spool.config(report=str(report_dir)), rec)
    await line.start()
    try:
        spool.smsd_receives(
            "GSM1.rep003",
            b"From: 420777999999\n\nSMS STATUS REPORT\nMessage_id: 9\nStatus: 0,Ok,x",
            where=report_dir,
        )
        event = await rec.next()
        assert isinstance(event, SpoolDelivered)
        assert event.message_ref == 9
    finally:
        await line.stop()


def test_both_spool_lines_are_lines(spool: Spool, tmp_path: Path) -> None:
    from agent.spool.events import SpoolBackend
    from agent.spool.smslib_line import SmslibConfig, SmslibLine

    smslib = SmslibConfig.from_account({"sqlURL": "sqlite://", "state_dir": str(tmp_path)})
    assert isinstance(SmstoolsLine("a", spool.config(), Recorder()), SpoolBackend)
    assert isinstance(SmslibLine("b", smslib, Recorder()), SpoolBackend)


async def test_unwritable_outgoing_is_a_clear_error_and_leaves_nothing_behind(
    spool: Spool, started: tuple[SmstoolsLine, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.spool.smstools_line as smstools_line

    line, _rec = started

    def refuse(outgoing: Path, name: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(smstools_line, "publish", refuse)
    with pytest.raises(OSError, match=r"cannot write smsbridge-m-1-.* write access"):
        await line.submit(JOB)
    assert list(spool.outgoing.iterdir()) == []
    assert line.health().pending == 0
    monkeypatch.undo()
    await line.submit(JOB)  # offered again: written now
    assert spool.our_file().name.startswith("smsbridge-m-1-")


async def test_incoming_that_cannot_be_removed_is_reported_once_with_advice(
    spool: Spool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import agent.spool.smstools_line as smstools_line

    def sticky(src: Path, dst: Path) -> None:  # Debian's drwxrwsr-t: not ours to remove
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(smstools_line.shutil, "move", sticky)
    rec = Recorder()
    line = SmstoolsLine("gsm", spool.config(), rec)
    await line.start()
    try:
        path = spool.smsd_receives("GSM1.sticky", INCOMING)
        assert isinstance(await rec.next(), SpoolReceived)
        problem = await rec.next()
        assert isinstance(problem, SpoolProblem)
        assert "run the agent as user smsd" in problem.detail
        # A retry would come after retry_seconds (0.1), before the barrier has settled
        # (0.2); the barrier's own file cannot be removed either, hence its own problem.
        await barrier(spool, rec)
        assert isinstance(await rec.next(), SpoolProblem)
        assert rec.empty()
    finally:
        await line.stop()
    os.utime(path, (1, 1))
    line = SmstoolsLine("gsm", spool.config(), rec)
    await line.start()  # the file is still there: not reported again
    try:
        await barrier(spool, rec, "GSM1.barrier2")
        problem = await rec.next()
        assert isinstance(problem, SpoolProblem)
        assert "GSM1.barrier2" in problem.detail  # the barrier's, not the old file's
        await line.idle()
        assert rec.empty()
    finally:
        await line.stop()


@pytest.mark.parametrize(
    ("text", "alphabet"),
    [
        ("Hello", "ISO"),
        ("Prix: 5€ [café]", "ISO"),
        ("Ä£", "UCS2"),  # as ISO bytes (C4 A3) smsd reads UTF-8 "ģ" and drops it
        ("Dobrý den", "UCS2"),  # ý is not GSM
        ("Привет", "UCS2"),
    ],
)
async def test_auto_alphabet_picks_iso_only_when_smsd_reads_it_back_the_same(
    spool: Spool, text: str, alphabet: str
) -> None:
    line = SmstoolsLine("gsm", spool.config(alphabet="auto"), Recorder())
    await line.start()
    try:
        await line.submit(SpoolJob(id="a", to="1", text=text))
        assert f"\nAlphabet: {alphabet}\n".encode() in spool.our_file().read_bytes()
    finally:
        await line.stop()


def test_account_config_in_the_seed_text_form_is_read() -> None:
    # key = value lines give strings; booleans and numbers are converted, unknown keys named
    config = SmstoolsConfig.from_account(
        {
            "in": "/i",
            "out": "/o",
            "state_dir": "/s",
            "delete_incoming": "yes",
            "settle_seconds": "1.5",
        }
    )
    assert (config.incoming, config.outgoing, config.delete_incoming) == ("/i", "/o", True)
    assert config.settle_seconds == 1.5
    with pytest.raises(Exception, match="unknown field `sentt`"):
        SmstoolsConfig.from_account({"in": "/i", "out": "/o", "state_dir": "/s", "sentt": "/x"})


async def test_with_poll_incoming_off_sms_files_are_left_and_reports_still_read(
    spool: Spool,
) -> None:
    rec = Recorder()
    line = SmstoolsLine("gsm", spool.config(poll_incoming=False), rec)
    await line.start()
    try:
        await line.submit(JOB)
        await rec.next()
        spool.smsd_moves(spool.our_file(), spool.sent, SENT_HEADERS)
        assert isinstance(await rec.next(), SpoolSent)
        sms = spool.smsd_receives("GSM1.forothers", INCOMING)
        spool.smsd_receives(
            "GSM1.rep003",
            b"From: 420777123456\nModem: GSM1\nAlphabet: ISO\nUDH: no\n\nSMS STATUS REPORT\n"
            b"Message_id: 117\nDischarge_timestamp: 24-05-02 10:15:09\n"
            b"Status: 0,Ok,short message received by the SME",
        )
        # The report, written after the SMS, is the barrier: the SMS was seen before it.
        event = await rec.next()
        assert isinstance(event, SpoolDelivered), f"expected only the report, got {event!r}"
        await line.idle()
        assert rec.empty()
        assert sms.read_bytes() == INCOMING  # untouched, in smsd's directory
        assert any("incoming SMS" in c for c in line.health().cannot_know)
    finally:
        await line.stop()
