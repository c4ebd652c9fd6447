"""Every change of a message's state goes through here, and each writes its event in the
same transaction (events/outbox.py). Nothing else updates `messages.state`
(tests/events/test_outbox.py checks the code for it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import and_, select, update

from sms.model import Direction, MessageState

from ..db.tables import Message
from ..events import outbox
from ..events.outbox import Executor
from .states import advance_statement

_RETURNING = (
    Message.id,
    Message.account_id,
    Message.direction,
    Message.user_id,
    Message.visible_to,
    Message.sharing,
    Message.peer,
    Message.parts,
    Message.line,
    Message.route,
)


def _event(
    type_: str, at: dt.datetime, m: Any, data: dict[str, object] | None = None
) -> dict[str, object]:
    """An event of message `m` (a row with the _RETURNING columns, or a Message)."""
    outbound = m.direction == Direction.OUT.value
    body: dict[str, object] = {
        "message": m.id,
        "account": m.account_id,
        "direction": m.direction,
        ("to" if outbound else "from"): m.peer,
        "parts": m.parts,
    }
    body.update(data or {})
    return outbox.event_row(
        type_,
        at,
        f"message:{m.id}",
        body,
        message_id=m.id,
        account_id=m.account_id,
        direction=m.direction,
        user_id=m.user_id,
        visible_to=m.visible_to,
        sharing=m.sharing,
    )


async def advance(
    db: Executor,
    message_id: str,
    target: MessageState,
    at: dt.datetime,
    reason: str | None = None,
    detail: str | None = None,
) -> bool:
    """Move the message to `target` (never backwards) and write its event; False when
    it was unknown or already past `target` (then there is no event either)."""
    rows = (
        await db.execute(
            advance_statement(message_id, target, at, reason, detail).returning(*_RETURNING)
        )
    ).all()
    data: dict[str, object] = {"state": target.value}
    if target is MessageState.FAILED:
        data |= {"reason": reason or "failed", "detail": detail}
    await outbox.write(
        db, [_event(f"message.{target.value}", at, m, _extra(m, data)) for m in rows]
    )
    return bool(rows)


def _extra(m: Any, data: dict[str, object]) -> dict[str, object]:
    if data["state"] in (MessageState.DISPATCHED.value, MessageState.SENT.value):
        return data | {"line": m.line, "route": m.route}
    return data


async def _move(
    db: Executor,
    where: Any,
    values: dict[str, object],
    at: dt.datetime,
    event: Callable[[Any], tuple[str, dict[str, object]]],
) -> int:
    """UPDATE the messages `where` selects to `values` and write, for each row it changed,
    the event `event(row)` gives (type, data); returns how many changed."""
    rows = (
        await db.execute(
            update(Message)
            .where(where)
            .values(**values)
            .returning(*_RETURNING)
            .execution_options(synchronize_session=False)
        )
    ).all()
    events = []
    for m in rows:
        type_, data = event(m)
        events.append(_event(type_, at, m, data))
    await outbox.write(db, events)
    return len(rows)


async def dispatched(db: Executor, message_ids: Sequence[str], at: dt.datetime) -> None:
    """Agents took these jobs: queued → dispatched, the lease ended."""
    if not message_ids:
        return
    await _move(
        db,
        and_(Message.id.in_(message_ids), Message.state == MessageState.QUEUED.value),
        {
            "state": MessageState.DISPATCHED.value,
            "dispatched_at": at,
            "lease_owner": None,
            "lease_until": None,
        },
        at,
        lambda m: ("message.dispatched", {"state": "dispatched", "line": m.line}),
    )


class _Row:
    """A message row as the writer inserts it (a dict), read like a Message."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.__dict__.update(row)
        self.visible_to = row.get("visible_to")
        self.sharing = row.get("sharing")


async def queued(db: Executor, rows: Sequence[dict[str, Any]]) -> None:
    """The events of messages just inserted (the writer's batch): `message.queued`, or
    `message.scheduled` for one with a `send_at` still ahead."""
    events = []
    for row in rows:
        m = _Row(row)
        state = row.get("state") or MessageState.QUEUED.value
        data: dict[str, object] = {"state": state, "text": row["text"], "user": row.get("user_id")}
        if state == MessageState.SCHEDULED.value:
            data["send_at"] = row.get("send_at")
        events.append(_event(f"message.{state}", row["created_at"], m, data))
    await outbox.write(db, events)


async def promoted(db: Executor, seqs: Sequence[int], at: dt.datetime) -> None:
    """Scheduled messages whose time came: scheduled → queued (routing/schedule.py)."""
    if not seqs:
        return
    await _move(
        db,
        and_(Message.seq.in_(seqs), Message.state == MessageState.SCHEDULED.value),
        {"state": MessageState.QUEUED.value, "detail": None},
        at,
        lambda m: ("message.queued", {"state": "queued"}),
    )


async def cancelled(db: Executor, where: Any, detail: str, at: dt.datetime) -> bool:
    """Cancel the message `where` selects (api/message_cancel.py decides what may be);
    False when it matched nothing (it had moved on)."""
    values = {
        "state": MessageState.CANCELLED.value,
        "detail": detail,
        "lease_owner": None,
        "lease_until": None,
    }
    data = {"state": "cancelled", "detail": detail}
    return bool(await _move(db, where, values, at, lambda m: ("message.cancelled", dict(data))))


async def expired(db: Executor, seqs: Sequence[int], at: dt.datetime) -> None:
    """Messages not sent by their valid_until: failed, reason `expired`."""
    if not seqs:
        return
    detail = "not sent before its valid_until"
    waiting = [MessageState.QUEUED.value, MessageState.SCHEDULED.value]
    values = {
        "state": MessageState.FAILED.value,
        "reason": "expired",
        "detail": detail,
        "failed_at": at,
        "lease_owner": None,
        "lease_until": None,
    }
    data = {"state": "failed", "reason": "expired", "detail": detail}
    await _move(
        db,
        and_(Message.seq.in_(seqs), Message.state.in_(waiting)),
        values,
        at,
        lambda m: ("message.failed", dict(data)),
    )


async def received(db: Executor, message: Message) -> None:
    """The event of an incoming SMS just stored (messages/inbound.py)."""
    await outbox.write(
        db,
        [
            _event(
                "message.received",
                message.created_at,
                message,
                {
                    "state": "received",
                    "text": message.text,
                    "time": message.created_at.isoformat(),
                    "line": message.line,
                },
            )
        ],
    )


async def part_reported(
    db: Executor, message_id: str, part: int, delivered: bool, status: int | None, at: dt.datetime
) -> None:
    """A part's own final delivery report (the message's state follows separately)."""
    m = (await db.execute(select(*_RETURNING).where(Message.id == message_id))).first()
    if m is None:
        return
    await outbox.write(
        db,
        [
            _event(
                "message.part",
                at,
                m,
                {"part": part, "delivered": delivered, "status": status},
            )
        ],
    )
