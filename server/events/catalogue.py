"""Every event type there is. A later feature adds its types here (and to docs/events.md);
webhooks refuse a type not named here, so a typo is an error, not silence."""

from __future__ import annotations

MESSAGE_TYPES = (
    "message.scheduled",
    "message.queued",
    "message.dispatched",
    "message.sent",
    "message.delivered",
    "message.failed",
    "message.cancelled",
    "message.part",
    "message.received",
)
AGENT_TYPES = ("agent.online", "agent.offline", "line.up", "line.down")
# From the modem lines' care (agent/lines/modem_care.py): a SIM low on credit, a call hung up.
MODEM_TYPES = ("call.missed", "line.balance_low")
# Sent only by "send a test event" to one webhook; never in the feed.
TEST_TYPE = "webhook.test"

TYPES: tuple[str, ...] = (*MESSAGE_TYPES, *AGENT_TYPES, *MODEM_TYPES)
SUBSCRIBABLE = frozenset((*TYPES, TEST_TYPE))


def unknown_types(types: list[str]) -> list[str]:
    """The ones that are neither an event type nor "*"."""
    return [t for t in types if t != "*" and t not in SUBSCRIBABLE]
