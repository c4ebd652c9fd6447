"""Each part's state as the API shows it, from the part reports and the message's state."""

from __future__ import annotations

import pytest

from server.api.messages import part_states
from server.db.tables import Message, PartReport


def message(state: str, parts: int = 3, direction: str = "out") -> Message:
    return Message(id="m1", direction=direction, state=state, parts=parts)


def report(part: int, delivered: bool | None, status: int | None = None) -> PartReport:
    return PartReport(message_id="m1", part=part, delivered=delivered, status=status)


def states(m: Message, reports: list[PartReport]) -> list[tuple[int, str, int | None]]:
    return [(p.part, p.state, p.status) for p in part_states(m, reports)]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("queued", "pending"),
        ("dispatched", "pending"),
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("failed", "unknown"),  # which parts went out is only in the detail
    ],
)
def test_parts_without_reports_follow_the_message(state, expected):
    assert states(message(state), []) == [(n, expected, None) for n in (1, 2, 3)]


def test_reports_decide_their_own_part():
    got = states(message("failed"), [report(1, True, 0), report(2, False, 70), report(3, None)])
    assert got == [(1, "delivered", 0), (2, "failed", 70), (3, "sent", None)]


def test_inbound_messages_have_no_part_states():
    assert part_states(message("received", direction="in"), []) == []
