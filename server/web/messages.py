"""The messages page: the newest outbound and inbound messages, their states and times,
filterable by account, refreshed by htmx. Who sees which message is the API's own filter
(api/messages.py `visible`, i.e. messages/visibility.py and the sharing mode)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template
from sqlalchemy import select

from sms.model import Direction

from ..api import accounts as api_accounts
from ..api.auth import ServerDep
from ..api.messages import load_reports, to_out, visible
from ..api.schemas import MAX_ID, MessageOut
from ..db.tables import Message
from ..runtime import Server
from .render import page
from .session import UserDep, WebUser

RECENT = 100
REFRESH_SECONDS = 3

# Strings, not int/enum: the filter form sends `account=` (all) and `direction=` (both).
AccountFilter = Annotated[str | None, QueryParameter(max_length=12)]
DirectionFilter = Annotated[str | None, QueryParameter(max_length=3)]


def _filters(account: str | None, direction: str | None) -> tuple[int | None, Direction | None]:
    chosen = int(account) if account and account.isdigit() and int(account) <= MAX_ID else None
    way = Direction(direction) if direction in {d.value for d in Direction} else None
    return chosen, way


async def recent(
    server: Server, user: WebUser, account: int | None, direction: Direction | None
) -> list[MessageOut]:
    query = select(Message).where(visible(user.caller))
    if account is not None:
        query = query.where(Message.account_id == account)
    if direction is not None:
        query = query.where(Message.direction == direction.value)
    async with server.sessions() as session:
        rows = (
            (await session.execute(query.order_by(Message.seq.desc()).limit(RECENT)))
            .scalars()
            .all()
        )
        reports = await load_reports(session, rows)
        return [to_out(m, reports.get(m.id, [])) for m in rows]


async def _context(
    server: Server, user: WebUser, account: int | None, direction: Direction | None
) -> dict[str, object]:
    accounts = await api_accounts.visible_accounts(server, user.caller)
    return {
        "messages": await recent(server, user, account, direction),
        "account_names": {a.id: a.name for a in accounts},
        "accounts": accounts,
        "account": account,
        "direction": direction.value if direction else "",
        "refresh": REFRESH_SECONDS,
    }


@get("/messages")
async def messages_page(
    server: ServerDep,
    user: UserDep,
    account: AccountFilter = None,
    direction: DirectionFilter = None,
    sent: FromQuery[str | None] = None,
) -> Template:
    context = await _context(server, user, *_filters(account, direction))
    return page("messages.html", user, sent=sent, **context)


@get("/messages/rows")
async def message_rows(
    server: ServerDep,
    user: UserDep,
    account: AccountFilter = None,
    direction: DirectionFilter = None,
    sent: FromQuery[str | None] = None,
) -> Template:
    """The table body alone, for htmx's periodic refresh."""
    context = await _context(server, user, *_filters(account, direction))
    return page("messages_rows.html", user, sent=sent, **context)
