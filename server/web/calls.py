"""Missed calls on the messages page (issue 17): the newest calls the modem lines hung
up, as an htmx fragment under the messages (admins only, like GET /api/calls: the page
asks for it only for them)."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from ..api.auth import ServerDep
from ..api.errors import forbidden
from ..calls import call_time, recent_calls
from .render import page
from .session import UserDep

RECENT_CALLS = 20


@get("/messages/calls")
async def calls_fragment(server: ServerDep, user: UserDep) -> Template:
    if not user.caller.is_admin:
        raise forbidden("only admins see the calls")
    async with server.sessions() as session:
        rows = await recent_calls(session, RECENT_CALLS)
    calls = [
        {"time": call_time(c), "caller": c.caller, "line": c.line, "agent": c.agent,
         "account": account}
        for c, account in rows
    ]  # fmt: skip
    return page("messages_calls.html", user, calls=calls)
