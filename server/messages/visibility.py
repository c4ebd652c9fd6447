"""Who may read which message, as a query filter.

Admins read everything. Other users read the outbound messages they sent and, with the
`read` right, the inbound messages their account's sharing mode gave them: `all` → every
reader; `private` → the owner; `reply-to-sender` → the user who last wrote to that number
(else the owner). That choice is made once, when the message is stored (see inbound.py).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_, true

from sms.model import Direction, Sharing

from ..db.tables import Message


def visible_to(user_id: int, *, admin: bool, reader: bool) -> ColumnElement[bool]:
    if admin:
        return true()
    own_outbound = and_(Message.direction == Direction.OUT.value, Message.user_id == user_id)
    if not reader:
        return own_outbound
    inbound = and_(
        Message.direction == Direction.IN.value,
        or_(Message.sharing == Sharing.ALL.value, Message.visible_to == user_id),
    )
    return or_(own_outbound, inbound)
