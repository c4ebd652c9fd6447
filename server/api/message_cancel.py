"""DELETE /api/messages/{id}: cancel a message no device or service has yet."""

from __future__ import annotations

import datetime as dt

from litestar import delete
from litestar.params import FromPath
from sqlalchemy import ColumnElement, and_, or_, select

from sms.model import GatewayType, MessageState

from ..db.tables import Message
from ..messages import changes
from ..runtime import Server
from .auth import Caller, CallerDep, ServerDep
from .errors import AUTH, conflict, documented, forbidden, not_found
from .messages import visible  # the same messages as reading one
from .schemas import Accepted

SCHEDULED, QUEUED = MessageState.SCHEDULED.value, MessageState.QUEUED.value


def cancellable(web: bool) -> ColumnElement[bool]:
    """Rows that nothing outside this database holds: scheduled ones, and queued ones of
    agent-backed accounts never handed to a line (a web gateway takes its queued
    messages at once; an agent may hold one it did not acknowledge)."""
    if web:
        return Message.state == SCHEDULED
    return or_(
        Message.state == SCHEDULED,
        and_(Message.state == QUEUED, Message.line.is_(None), Message.route.is_(None)),
    )


async def cancel(server: Server, caller: Caller, message_id: str) -> Accepted:
    if not caller.can_send:
        raise forbidden(f"user {caller.name!r} may not send or cancel SMS")
    async with server.sessions.begin() as session:
        found = (
            await session.execute(select(Message).where(Message.id == message_id, visible(caller)))
        ).scalar()
        if found is None:
            raise not_found(f"message {message_id!r}")
        if not caller.is_admin and found.user_id != caller.id:
            raise forbidden(f"message {message_id!r} was sent by another user")
        now = dt.datetime.now(dt.UTC)
        where = and_(Message.seq == found.seq, cancellable(_web(found)))
        detail = f"cancelled by {caller.name} at {now.isoformat()}"
        if await changes.cancelled(session, where, detail, now):
            return Accepted(found.id, MessageState.CANCELLED, found.parts)
        await session.refresh(found)
        raise conflict("not_cancellable", f"message {message_id!r} {where_it_is(found)}")


def _web(m: Message) -> bool:
    return not GatewayType(m.gateway).runs_on_agent


def where_it_is(m: Message) -> str:
    state = m.state
    if state == QUEUED and _web(m):
        return f"is with gateway {m.gateway} already (handed to the service), not cancellable"
    if state == QUEUED:
        return f"was handed to line {m.line or m.route} already, not cancellable"
    if state == MessageState.DISPATCHED.value:
        return f"is being sent on {m.line or m.route or m.gateway} already"
    return f"is {state} already" + (f" ({m.reason})" if m.reason else "")


@delete(
    "/api/messages/{message_id:str}",
    status_code=200,
    summary="Cancel a scheduled or queued message no device or service has yet",
    security=AUTH,
    responses=documented(400, 401, 403, 404, 409),
)
async def cancel_message(
    server: ServerDep, caller: CallerDep, message_id: FromPath[str]
) -> Accepted:
    return await cancel(server, caller, message_id)
