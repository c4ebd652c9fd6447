"""Records what gateways report about outbound messages, with the time of each step.

A report that would move a message backwards (a late `sent` after `delivered`, anything
after `failed`) is ignored: reports can arrive out of order, the stored state only advances.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Update, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from sms.model import MessageState

from ..db.tables import Message

log = logging.getLogger("smsbridge.server.states")

# State → the states it may be reached from, and the column that records when.
_FROM: dict[MessageState, tuple[MessageState, ...]] = {
    MessageState.DISPATCHED: (MessageState.QUEUED,),
    MessageState.SENT: (MessageState.QUEUED, MessageState.DISPATCHED),
    MessageState.DELIVERED: (MessageState.QUEUED, MessageState.DISPATCHED, MessageState.SENT),
    MessageState.FAILED: (MessageState.QUEUED, MessageState.DISPATCHED, MessageState.SENT),
}
_STAMP = {
    MessageState.DISPATCHED: "dispatched_at",
    MessageState.SENT: "sent_at",
    MessageState.DELIVERED: "delivered_at",
    MessageState.FAILED: "failed_at",
}


def advance_statement(
    message_id: str,
    target: MessageState,
    at: dt.datetime,
    reason: str | None = None,
    detail: str | None = None,
) -> Update:
    """The UPDATE that moves a message to `target`, stamped `at`, and does nothing to one
    already past it. It also ends any job lease: the job is settled. Only
    messages/changes.py runs it, with the event of the change."""
    if target not in _FROM:
        raise ValueError(f"a gateway cannot report {target!r} for an outbound message")
    values: dict[str, object] = {
        "state": target.value,
        _STAMP[target]: at,
        "lease_owner": None,
        "lease_until": None,
    }
    if target is MessageState.FAILED:
        values["reason"] = reason or "failed"
        values["detail"] = detail
    return (
        update(Message)
        .where(Message.id == message_id, Message.state.in_([s.value for s in _FROM[target]]))
        .values(**values)
    )


class StateRecorder:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def report(
        self, message_id: str, state: str, reason: str | None = None, detail: str | None = None
    ) -> None:
        from . import changes  # changes imports this module's statement

        target = MessageState(state)
        async with self._sessions.begin() as session:
            changed = await changes.advance(
                session, message_id, target, dt.datetime.now(dt.UTC), reason, detail
            )
        if not changed:
            log.info(
                "ignored report %s for message %s (unknown or already past it)", target, message_id
            )
