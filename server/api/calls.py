"""GET /api/calls: incoming calls the modem lines hung up, newest first (admin)."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar import get
from litestar.params import Parameter

from ..calls import call_time, recent_calls
from .auth import CallerDep, ServerDep, require_admin
from .errors import AUTH, documented


class CallOut(msgspec.Struct, kw_only=True):
    id: int
    caller: str = msgspec.field(name="from")  # "" when the network withheld the number
    time: dt.datetime
    agent: str
    line: str
    account: str | None = None


class CallPage(msgspec.Struct, kw_only=True):
    calls: list[CallOut]
    next: int | None = None  # pass as `before` for the next page


@get(
    "/api/calls",
    summary="List incoming calls that modem lines hung up, newest first (admin)",
    security=AUTH,
    responses=documented(400, 401, 403),
)
async def list_calls(
    server: ServerDep,
    caller: CallerDep,
    limit: int = Parameter(default=100, ge=1, le=500),
    before: int | None = Parameter(default=None, ge=1),
) -> CallPage:
    require_admin(caller)
    async with server.sessions() as session:
        rows = await recent_calls(session, limit, before)
    calls = [
        CallOut(
            id=call.id,
            caller=call.caller,
            time=call_time(call),
            agent=call.agent,
            line=call.line,
            account=account,
        )
        for call, account in rows
    ]
    return CallPage(calls=calls, next=calls[-1].id if len(calls) == limit else None)
