"""Writing events: in the caller's transaction, beside the change they report, so there is
never a change without its event nor an event without its change.

Cursor safety: the feed hands out `seq` as its cursor, and a reader must never pass an
event that commits later with a smaller seq. On PostgreSQL every transaction that writes
events first takes one transaction-level advisory lock (per schema), so event writers
commit one after the other and seq order is commit order; the same transaction sends a
NOTIFY, which PostgreSQL delivers only once it commits, to wake the other replicas. SQLite
has one writer at a time anyway. After the commit, the process's own Bell rings (bell.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Protocol, cast

import msgspec
from sqlalchemy import Table, insert, text

from ..db.tables import Event

CHANNEL = "smsbridge_events"
_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtext('smsbridge.events.' || current_schema())), "
    f"pg_notify('{CHANNEL}', '')"
)
_INSERT = insert(cast(Table, Event.__table__))
# session.info / connection.info keys: the transaction that holds the lock, and whether
# this session's commit should ring the bell.
_LOCKED = "smsbridge.events.locked"
PENDING = "smsbridge.events.pending"


class Executor(Protocol):
    """An AsyncSession or an AsyncConnection: what a transaction is written through."""

    info: dict[Any, Any]

    async def execute(self, statement: Any, parameters: Any = None) -> Any: ...

    def get_transaction(self) -> Any: ...

    @property
    def bind(self) -> Any: ...


def new_id() -> str:
    return f"evt_{uuid.uuid4().hex}"


def event_row(
    type_: str,
    at: dt.datetime,
    subject: str,
    data: dict[str, object],
    *,
    message_id: str | None = None,
    account_id: int | None = None,
    direction: str | None = None,
    user_id: int | None = None,
    visible_to: int | None = None,
    sharing: str | None = None,
) -> dict[str, object]:
    return {
        "id": new_id(),
        "type": type_,
        "time": at,
        "subject": subject,
        "message_id": message_id,
        "account_id": account_id,
        "direction": direction,
        "user_id": user_id,
        "visible_to": visible_to,
        "sharing": sharing,
        "data": msgspec.json.encode(data).decode(),
    }


def _dialect(executor: Executor) -> str:
    dialect = getattr(executor, "dialect", None)  # an AsyncConnection's; a session's bind's
    return str((dialect or executor.bind.dialect).name)


async def write(executor: Executor, rows: list[dict[str, object]]) -> None:
    """Add `rows` (event_row()) to the caller's open transaction."""
    if not rows:
        return
    transaction = executor.get_transaction()
    if _dialect(executor) == "postgresql" and executor.info.get(_LOCKED) is not transaction:
        await executor.execute(_LOCK)
        executor.info[_LOCKED] = transaction
    await executor.execute(_INSERT, rows)
    executor.info[PENDING] = True
