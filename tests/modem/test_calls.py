"""The call tracker (pure): one hang-up and one report per call, whatever the rings."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.modem.calls import CLIP_WAIT, CallReport, CallTracker, HangUp

WALL = datetime(2026, 12, 4, 19, 0, tzinfo=UTC)


def test_ring_then_clip_hangs_up_at_the_number_and_reports_once() -> None:
    calls = CallTracker(reject=True)
    assert calls.ring("RING", [], 0.0, WALL) == HangUp(CLIP_WAIT)
    assert calls.ring("+CLIP", ["+420603123456", "145"], 0.1, WALL) == HangUp(0.0)
    assert calls.hung_up(0.2) == CallReport("+420603123456", WALL)
    assert calls.ring("RING", [], 1.0, WALL) is None  # already on its way: the same call
    assert calls.hung_up(1.1) is None and calls.seen == 1
    assert calls.ring("+CRING", ["VOICE"], 10.0, WALL) == HangUp(CLIP_WAIT)  # a new call


def test_a_withheld_number_and_a_caller_who_gives_up() -> None:
    calls = CallTracker(reject=False)
    assert calls.ring("RING", [], 0.0, WALL) is None  # not rejected: it rings on
    assert calls.ended() == CallReport("", WALL)
    assert calls.ended() is None
