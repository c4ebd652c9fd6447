"""End to end with Debian's real smsd 3.1.21: our line writes files, smsd sends them
through a fake AT modem on a pty (tests/spool/fake_modem.py) and writes sent, failed,
incoming and report files, which the line turns into events.

Runs smsd in the foreground (`-t`) with a generated smsd.conf under tmp_path; delays are
set to 1 s, so each test takes a few seconds (smsd's own polling, not ours).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from agent.modem.pdu import Alphabet
from agent.spool.events import SpoolDelivered, SpoolFailed, SpoolJob, SpoolReceived, SpoolSent
from agent.spool.smstools_line import SmstoolsLine
from tests.spool.fake_modem import FakeModem, deliver_pdu, status_report_pdu
from tests.spool.recorder import Recorder
from tests.spool.smsd_daemon import Smsd

pytestmark = pytest.mark.peer("smsd")

WAIT = 20.0  # smsd: 1 s main-process delay, ~1 s per send, 3 tries with 1 s sleeps on error


@pytest.fixture
def smsd(tmp_path: Path) -> Iterator[Smsd]:
    modem = FakeModem()
    daemon = Smsd(tmp_path, modem)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()
        modem.close()


@pytest.fixture
async def line(smsd: Smsd) -> AsyncIterator[tuple[SmstoolsLine, Recorder]]:
    rec = Recorder(wait=WAIT)
    line = SmstoolsLine("gsm", smsd.config(), rec)
    await line.start()
    yield line, rec
    await line.stop()


@contextlib.contextmanager
def smsd_log_on_failure(smsd: Smsd) -> Iterator[None]:
    try:
        yield
    except (AssertionError, TimeoutError) as exc:
        raise AssertionError(f"{exc!r}\n--- smsd log ---\n{smsd.log_tail()}") from exc


LONG = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute."
)


async def test_real_smsd_sends_single_multipart_and_ucs2_files_we_wrote(
    smsd: Smsd, line: tuple[SmstoolsLine, Recorder]
) -> None:
    lin, rec = line
    jobs = [
        SpoolJob(id="single", to="+420777123456", text="Hello from smsbridge"),
        SpoolJob(id="long", to="+420777123456", text=LONG),
        SpoolJob(id="czech", to="+420777123456", text="Dobrý den, žluťoučký kůň Привет"),
        SpoolJob(id="flash", to="+420777999888", text="Flash!", flash=True, validity_minutes=60),
    ]
    with smsd_log_on_failure(smsd):
        for job in jobs:
            await lin.submit(job)
        sent = {}
        while len(sent) < 4:
            event = await rec.next_of(SpoolSent)
            assert isinstance(event, SpoolSent)
            sent[event.job_id] = event
    assert {e.modem for e in sent.values()} == {"GSM1"}
    (flash,) = [s for s in smsd.modem.submits if s.recipient == "+420777999888"]
    assert (flash.text, flash.message_class, flash.validity_minutes) == ("Flash!", 0, 60)
    by_text: dict[str, list[str]] = {}
    for submit in smsd.modem.submits:
        if submit is flash:
            continue
        assert submit.recipient == "+420777123456"
        by_text.setdefault(submit.alphabet.value, []).append(submit.text)
    assert "Hello from smsbridge" in by_text[Alphabet.GSM7.value]
    assert "".join(t for t in by_text[Alphabet.GSM7.value] if t != "Hello from smsbridge") == LONG
    # UTF-8 body with characters outside GSM: smsd sends the whole message as UCS-2,
    # and without a trailing newline (we write none).
    assert by_text[Alphabet.UCS2.value] == ["Dobrý den, žluťoučký kůň Привет"]
    assert lin.health().pending == 0


async def test_real_smsd_modem_error_ends_as_failed_with_smsd_reason(
    smsd: Smsd, line: tuple[SmstoolsLine, Recorder]
) -> None:
    lin, rec = line
    smsd.modem.fail["420777000000"] = "+CMS ERROR: 38"
    with smsd_log_on_failure(smsd):
        await lin.submit(SpoolJob(id="doomed", to="+420777000000", text="will fail"))
        event = await rec.next_of(SpoolFailed)
    assert isinstance(event, SpoolFailed)
    assert event.job_id == "doomed"
    assert event.reason == "cms-error:38"
    assert event.detail.startswith("+CMS ERROR: 38")  # smsd adds "(Network out of order)"


async def test_real_smsd_incoming_multipart_and_status_report_become_events(
    smsd: Smsd, line: tuple[SmstoolsLine, Recorder]
) -> None:
    lin, rec = line
    now = datetime.now()
    with smsd_log_on_failure(smsd):
        await lin.submit(SpoolJob(id="rep", to="+420777123456", text="report me", report=True))
        sent = await rec.next_of(SpoolSent)
        assert isinstance(sent, SpoolSent)
        assert sent.message_ref is not None
        smsd.feed("r1", status_report_pdu("420777123456", sent.message_ref, 0, when=now))
        delivered = await rec.next_of(SpoolDelivered)
        assert isinstance(delivered, SpoolDelivered)
        assert (delivered.job_id, delivered.status) == ("rep", 0)

        smsd.feed("i1", deliver_pdu("+420602111222", "Ahoj, jak se máš?", when=now))
        first = await rec.next_of(SpoolReceived)
        # two parts, second first: smsd joins them into one file
        smsd.feed("m2", deliver_pdu("+420602111222", "část druhá", concat=(9, 2, 2), when=now))
        smsd.feed("m1", deliver_pdu("+420602111222", "Část první, ", concat=(9, 2, 1), when=now))
        joined = await rec.next_of(SpoolReceived)
    assert isinstance(first, SpoolReceived)
    assert (first.sender, first.text) == ("420602111222", "Ahoj, jak se máš?")
    assert isinstance(joined, SpoolReceived)
    assert joined.text == "Část první, část druhá"
    await lin.idle()
    archived = sorted(p.name for p in (smsd.root / "state" / "archive").iterdir())
    assert len(archived) == 3  # the report and both messages, none left in incoming/
    assert not [p for p in (smsd.root / "incoming").iterdir() if p.name.startswith("GSM1.")]


async def test_files_smsd_wrote_while_the_agent_was_stopped_are_reported_at_start(
    smsd: Smsd,
) -> None:
    rec = Recorder(wait=WAIT)
    line = SmstoolsLine("gsm", smsd.config(), rec)
    await line.start()
    with smsd_log_on_failure(smsd):
        await line.submit(SpoolJob(id="offline", to="+420777123456", text="while away"))
        await line.stop()
        smsd.feed("i2", deliver_pdu("+420602111222", "sent while you slept", when=datetime.now()))
        # no line is watching: look at smsd's directories until it has done both
        for _ in range(int(WAIT * 10)):
            sent_done = any((smsd.root / "sent").iterdir())
            got = [p for p in (smsd.root / "incoming").iterdir() if p.name.startswith("GSM1.")]
            if sent_done and got:
                break
            await asyncio.sleep(0.1)
        line = SmstoolsLine("gsm", smsd.config(), rec)
        await line.start()
        try:
            kinds = {type(await rec.next_of((SpoolSent, SpoolReceived))) for _ in range(2)}
        finally:
            await line.stop()
    assert kinds == {SpoolSent, SpoolReceived}


async def test_real_smsd_takes_ucs2_and_iso_files_for_older_smsd_sites(smsd: Smsd) -> None:
    # alphabet = UCS2 / auto: what a site with smsd older than 3.1.16 (no UTF-8) needs
    rec = Recorder(wait=WAIT)
    ucs2 = SmstoolsLine("ucs2", smsd.config(alphabet="UCS2", state_dir=str(smsd.root / "s1")), rec)
    # modem = GSM9 becomes "Queue: GSM9", which smsd ignores when it has no [queues]
    auto_config = smsd.config(alphabet="auto", modem="GSM9", state_dir=str(smsd.root / "s2"))
    auto = SmstoolsLine("auto", auto_config, rec)
    for line in (ucs2, auto):
        await line.start()
    try:
        with smsd_log_on_failure(smsd):
            await ucs2.submit(SpoolJob(id="u", to="+420777000001", text="Žluťoučký kůň ✓"))
            await auto.submit(SpoolJob(id="a", to="+420777000002", text="Prix: 5€ [café]"))
            await auto.submit(SpoolJob(id="b", to="+420777000003", text="Dobrý den"))
            done = {getattr(await rec.next_of(SpoolSent), "job_id", None) for _ in range(3)}
    finally:
        for line in (ucs2, auto):
            await line.stop()
    assert done == {"u", "a", "b"}  # all sent, by GSM1
    got = {s.recipient: (s.alphabet, s.text) for s in smsd.modem.submits}
    assert got["+420777000001"] == (Alphabet.UCS2, "Žluťoučký kůň ✓")
    assert got["+420777000002"] == (Alphabet.GSM7, "Prix: 5€ [café]")  # ISO file → GSM
    assert got["+420777000003"] == (Alphabet.UCS2, "Dobrý den")  # ý is not GSM


@pytest.fixture
def smsd_with_queue(tmp_path: Path) -> Iterator[Smsd]:
    modem = FakeModem()
    daemon = Smsd(tmp_path, modem, queue="GSM1")
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()
        modem.close()


async def test_real_smsd_routes_the_account_modem_as_a_queue(smsd_with_queue: Smsd) -> None:
    smsd = smsd_with_queue
    rec = Recorder(wait=WAIT)
    good = SmstoolsLine("gsm1", smsd.config(modem="GSM1", state_dir=str(smsd.root / "s1")), rec)
    bad = SmstoolsLine("nope", smsd.config(modem="NOPE", state_dir=str(smsd.root / "s2")), rec)
    for line in (good, bad):
        await line.start()
    try:
        with smsd_log_on_failure(smsd):
            await good.submit(SpoolJob(id="routed", to="+420777123456", text="via queue GSM1"))
            await bad.submit(SpoolJob(id="lost", to="+420777123456", text="no such queue"))
            outcomes = {}
            while len(outcomes) < 2:
                event = await rec.next_of((SpoolSent, SpoolFailed))
                outcomes[type(event)] = event
            sent, failed = outcomes[SpoolSent], outcomes[SpoolFailed]
    finally:
        for line in (good, bad):
            await line.stop()
    assert isinstance(sent, SpoolSent)
    assert (sent.job_id, sent.modem) == ("routed", "GSM1")
    assert isinstance(failed, SpoolFailed)
    assert (failed.job_id, failed.reason, failed.detail) == (
        "lost",
        "rejected",
        "Wrong provider queue",
    )
