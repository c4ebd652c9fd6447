"""TP-VP, relative format (3GPP TS 23.040 §9.2.3.12.1): the validity periods a network
can be told, and the longest of them that does not outlast what a message has left."""

from __future__ import annotations

MIN_MINUTES = 5  # the shortest relative validity (TP-VP 0)
MAX_MINUTES = 63 * 7 * 1440  # the longest (TP-VP 255): 63 weeks


def relative_floor(minutes: int) -> int:
    """The longest encodable validity ≤ `minutes` (at least 5 minutes, at most 63 weeks):
    a message told to live no longer than it may, so it is never delivered late."""
    if minutes <= MIN_MINUTES:
        return MIN_MINUTES
    if minutes <= 720:  # 5-minute steps up to 12 h
        return minutes // 5 * 5
    if minutes < 1440 + 30:  # then 30-minute steps up to 24 h
        return min(1440, 720 + (minutes - 720) // 30 * 30)
    if minutes < 2 * 1440:
        return 1440
    if minutes < 35 * 1440:  # days up to 30, then weeks from 5
        return min(30, minutes // 1440) * 1440
    return min(MAX_MINUTES, minutes // 10080 * 10080)
