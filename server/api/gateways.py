"""Web-gateway endpoints: an smsbrana account's credit, the account's "test connection",
and the push URL that smsbrana calls when something arrived (it only triggers a poll)."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromQuery
from sqlalchemy import select

from sms.model import GatewayType

from ..accounts.config import stored_values
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


def _too_many(what: str) -> ApiError:
    return ApiError(429, "too_many_requests", f"too many pushes {what}; try again in a while")


async def _takes_push(server: Server, account_id: int) -> bool:
    """An smsbrana account with poll incoming and `push = true`."""
    async with server.sessions() as session:
        row = (
            await session.execute(
                select(Account.gateway, Account.poll_incoming, Account.config).where(
                    Account.id == account_id
                )
            )
        ).first()
    if row is None or row.gateway != GatewayType.SMSBRANA.value or not row.poll_incoming:
        return False
    return stored_values(row.config).get("push", "").lower() in {"true", "yes", "1", "on"}


@post(
    "/api/gateways/smsbrana/push",
    status_code=202,
    summary="smsbrana's PUSH URL: something arrived for `account`; poll the inbox now",
    description="Only for smsbrana accounts with `push = true` and poll incoming on; "
    "limited per client address and per account.",
    security=[],
    responses=documented(400, 404, 429),
)
async def smsbrana_push(
    server: ServerDep, request: Request[Any, Any, Any], account: FromQuery[int | None] = None
) -> PushOut:
    # No token: smsbrana cannot send one. The worst a stranger can do is make us poll
    # sooner; they are limited per address (checked before any database work) and per
    # account, and only accounts that asked for pushes take them.
    now = time.monotonic()
    client = request.client.host if request.client else "?"
    if not server.push_clients.allow(client, now):
        raise _too_many("from this address")
    if account is None or not await _takes_push(server, account):
        raise not_found(
            "an smsbrana account with push = true and poll incoming (push?account=<id>)"
        )
    if not server.push_accounts.allow(str(account), now):
        raise _too_many(f"for account {account}")
    _web(server).smsbrana_inbox.trigger()
    return PushOut(True)
