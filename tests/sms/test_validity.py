"""TP-VP (relative): the longest encodable validity that does not outlast the message."""

from __future__ import annotations

from agent.modem.pdu_fields import decode_relative_validity
from sms.validity import MAX_MINUTES, MIN_MINUTES, relative_floor

ENCODABLE = sorted({decode_relative_validity(vp) for vp in range(256)})


def test_the_floor_is_the_longest_encodable_period_not_above_the_minutes() -> None:
    for minutes in [*range(1, 3000), *range(3000, 700_000, 97)]:
        want = max([v for v in ENCODABLE if v <= minutes], default=MIN_MINUTES)
        assert relative_floor(minutes) == want, minutes


def test_bounds() -> None:
    assert relative_floor(0) == MIN_MINUTES == ENCODABLE[0]
    assert relative_floor(10**9) == MAX_MINUTES == ENCODABLE[-1]
