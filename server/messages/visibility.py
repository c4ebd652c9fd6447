"""Who may read which message, as a query filter.

Admins read everything. Other users read the outbound messages they sent and, with the
`read` right, the inbound messages their account's sharing mode gave them: `all` → every
reader; `private` → the owner; `reply-to-sender` → the user who last wrote to that number
(else the owner). That choice is made once, when the message is stored (see inbound.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_, true

from sms.model import Direction, Sharing

from ..db.tables import Message


def visible_to(
    user_id: int, *, admin: bool, reader: bool, table: Any = Message
) -> ColumnElement[bool]:
    """`table`: Message, or Event (events copy these columns from their message; an
    event with no direction, of an agent or a line, is for admins only)."""
    if admin:
        return true()
    t = table
    own_outbound = and_(t.direction == Direction.OUT.value, t.user_id == user_id)
    if not reader:
        return own_outbound
    inbound = and_(
        t.direction == Direction.IN.value,
        or_(t.sharing == Sharing.ALL.value, t.visible_to == user_id),
    )
    return or_(own_outbound, inbound)
