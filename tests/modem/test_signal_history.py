"""Signal history: a sample a minute for 24 h, gaps filled, small enough for a frame."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.modem.signal_history import SignalLog
from bridge import protocol as p

T0 = datetime(2026, 12, 4, 18, 0, 10, tzinfo=UTC)


def test_one_sample_a_minute_the_last_of_each_minute_wins_and_gaps_are_dashes() -> None:
    log = SignalLog()
    log.add(T0, -90, "home")
    log.add(T0 + timedelta(seconds=30), -85, "home")  # same minute: replaces
    log.add(T0 + timedelta(minutes=3), None, None)  # the modem was down
    log.add(T0 + timedelta(minutes=4), -101, "roaming")
    history = log.history(T0 + timedelta(minutes=5))
    assert history is not None and history.start == T0.replace(second=0)
    assert history.dbm == [-85, None, None, None, -101, None]
    assert history.registration == "h---r-"


def test_only_the_last_24_hours_are_kept_and_a_full_day_fits_a_frame() -> None:
    log = SignalLog()
    for minute in range(26 * 60):
        log.add(T0 + timedelta(minutes=minute), -113 + minute % 60, "home")
    now = T0 + timedelta(minutes=26 * 60 - 1)
    history = log.history(now)
    assert history is not None and len(history.dbm) == 24 * 60
    assert history.start == (now - timedelta(minutes=24 * 60 - 1)).replace(second=0)
    status = p.LineStatus(line="GSM1", up=True, at=now, signal_history=history)
    assert len(p.encode(status)) < p.MAX_FRAME_BYTES / 4
    assert p.decode(p.encode(status)) == status


def test_a_clock_that_goes_back_does_not_scramble_the_history() -> None:
    log = SignalLog()
    log.add(T0, -90, "home")
    log.add(T0 - timedelta(minutes=5), -50, "home")
    assert len(log) == 1
    assert SignalLog().history(T0) is None


def test_the_history_survives_a_restart_through_dump_and_load() -> None:
    log = SignalLog()
    log.add(T0, -90, "home")
    log.add(T0 + timedelta(minutes=1), None, None)
    again = SignalLog()
    again.load(log.dump())
    assert again.history(T0 + timedelta(minutes=1)) == log.history(T0 + timedelta(minutes=1))
    again.load(b"not json")  # a damaged file: ignored, nothing lost in memory
    assert len(again) == 2
