"""Web-gateway endpoints: an smsbrana account's credit, the account's "test connection",
and the push URL that smsbrana calls when something arrived (it only triggers a poll)."""

from __future__ import annotations

import msgspec
from litestar import get, post

from ..accounts.store import usable_by, with_owner
from ..db.tables import Account
from ..gateways.web import GatewayUnavailable, NotSupported, WebGateways
from ..runtime import Server
from .accounts import AccountIdPath
from .auth import Caller, CallerDep, ServerDep, require_admin
from .errors import AUTH, ApiError, documented, not_found, unprocessable


class CreditOut(msgspec.Struct):
    account: int
    credit: float | None  # None when the service did not say; `detail` tells why
    currency: str = "CZK"
    detail: str | None = None


class TestOut(msgspec.Struct):
    account: int
    ok: bool
    detail: str


class PushOut(msgspec.Struct):
    polling: bool


def _web(server: Server) -> WebGateways:
    if server.web is None:
        raise ApiError(503, "unavailable", "the web gateways are not running")
    return server.web


async def _account(server: Server, caller: Caller, account_id: int) -> Account:
    query = with_owner() if caller.is_admin else usable_by(caller.id)
    async with server.sessions() as session:
        row = (await session.execute(query.where(Account.id == account_id))).first()
    if row is None:
        raise not_found(f"account {account_id}")
    return row[0]


@get(
    "/api/accounts/{account_id:int}/credit",
    summary="Remaining credit of an smsbrana account",
    description="`credit` is null when smsbrana did not answer or refused; `detail` says why.",
    security=AUTH,
    responses=documented(400, 401, 404, 422),
)
async def account_credit(
    server: ServerDep, caller: CallerDep, account_id: AccountIdPath
) -> CreditOut:
    account = await _account(server, caller, account_id)
    try:
        credit = await _web(server).credit(account)
    except NotSupported as exc:
        raise unprocessable("not_supported", str(exc)) from None
    except GatewayUnavailable as exc:
        # The account exists and the question is fair; the service's trouble is an answer.
        return CreditOut(account_id, None, detail=str(exc))
    return CreditOut(account_id, credit)


@post(
    "/api/accounts/{account_id:int}/test",
    status_code=200,
    summary="Test an account's connection to its service (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 404, 422),
)
async def test_account(server: ServerDep, caller: CallerDep, account_id: AccountIdPath) -> TestOut:
    require_admin(caller)
    account = await _account(server, caller, account_id)
    try:
        detail = await _web(server).test(account)
    except NotSupported as exc:
        raise unprocessable("not_supported", str(exc)) from None
    except GatewayUnavailable as exc:
        return TestOut(account_id, False, str(exc))
    return TestOut(account_id, True, detail)


@post(
    "/api/gateways/smsbrana/push",
    status_code=202,
    summary="smsbrana's PUSH URL: something arrived; poll the inbox now",
    security=[],
)
async def smsbrana_push(server: ServerDep) -> PushOut:
    # No token: smsbrana cannot send one. Nothing from the request is used; the worst a
    # stranger can do is make us poll sooner, and triggers coalesce into one poll.
    _web(server).smsbrana_inbox.trigger()
    return PushOut(True)
