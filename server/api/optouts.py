"""/api/optouts (admins): the suppression list — numbers that asked not to be written
to, for one account or for all. A send to one of them is a 422 `opted_out`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Annotated

from litestar import delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from sms.phone import NumberKind, PhoneNumberError, normalize

from ..accounts.cache import AccountView
from ..db.tables import OptOut
from ..messages import optout
from ..runtime import Server
from .auth import CallerDep, ServerDep, require_admin
from .errors import AUTH, documented, not_found, unprocessable
from .schemas import MAX_ID, OptOutIn, OptOutOut


def _out(s: optout.Suppressed) -> OptOutOut:
    return OptOutOut(s.number, s.account, s.reason, s.time)


def _number(raw: str) -> str:
    try:
        address = normalize(raw)
    except PhoneNumberError as exc:
        raise unprocessable("invalid_number", f"number: {exc}") from None
    if address.kind is NumberKind.ALPHANUMERIC:
        raise unprocessable("invalid_number", f"number: {raw!r} is a sender name, not a number")
    return address.value


def _changed(server: Server) -> None:
    if server.optouts is not None:
        server.optouts.invalidate()


def transactional_allowed(account: AccountView, category: str | None) -> bool:
    allowed = (account.config.get("optout_transactional") or "").lower() == "allow"
    return category == "transactional" and allowed


async def refuse_opted_out(
    server: Server, account: AccountView, numbers: Collection[str], category: str | None
) -> dict[str, str]:
    """Number → why it is refused, for those of `numbers` opted out of `account`."""
    if transactional_allowed(account, category):
        return {}
    if server.optouts is not None:
        found = await server.optouts.find(account.id, numbers)
    else:
        async with server.sessions() as session:
            found = await optout.suppressed(session, account.id, numbers)
    return {number: optout.refusal(s) for number, s in found.items()}


@get(
    "/api/optouts",
    summary="The suppression list (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 422),
)
async def list_optouts(
    server: ServerDep,
    caller: CallerDep,
    number: Annotated[str | None, QueryParameter(max_length=64)] = None,
    account: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
) -> list[OptOutOut]:
    require_admin(caller)
    query = select(OptOut).order_by(OptOut.created_at, OptOut.id)
    if number is not None:
        query = query.where(OptOut.number == _number(number))
    if account is not None:
        query = query.where(OptOut.account_id == account)
    async with server.sessions() as session:
        rows = (await session.execute(query)).scalars().all()
    return [_out(optout.suppression(r)) for r in rows]


@post(
    "/api/optouts",
    status_code=201,
    summary="Add a number to the suppression list (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 422),
)
async def add_optout(server: ServerDep, caller: CallerDep, data: JSONBody[OptOutIn]) -> OptOutOut:
    require_admin(caller)
    number = _number(data.number)
    if data.account is not None and await server.accounts.get(data.account) is None:
        raise unprocessable("unknown_account", f"account: there is no account {data.account}")
    async with server.sessions.begin() as session:
        row = await optout.add(session, number, data.account, data.reason, dt.datetime.now(dt.UTC))
        out = _out(optout.suppression(row))
    _changed(server)
    return out


@delete(
    "/api/optouts/{number:str}",
    status_code=204,
    summary="Remove a number from the suppression list (admin): of one account, or all",
    security=AUTH,
    responses=documented(400, 401, 403, 404, 422),
)
async def remove_optout(
    server: ServerDep,
    caller: CallerDep,
    number: FromPath[str],
    account: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
) -> None:
    require_admin(caller)
    e164 = _number(number)
    statement = sql_delete(OptOut).where(OptOut.number == e164)
    if account is not None:
        statement = statement.where(OptOut.account_id == account)
    async with server.sessions.begin() as session:
        result = await session.execute(statement)
    _changed(server)
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise not_found(f"opt-out of {e164}" + (f" for account {account}" if account else ""))
