"""/api/accounts: the CRM's "Settings → SMS accounts". Admins manage; users see the
accounts they may send with (their own and those without an owner)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import delete, get, patch, post
from litestar.params import JSONBody, PathParameter
from msgspec import UNSET
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sms.model import GatewayType, Sharing
from sms.phone import PhoneNumberError, normalize

from ..accounts.config import AccountConfigError
from ..accounts.store import (
    apply_config,
    check_config,
    clear_default,
    line_agents,
    save_lines,
    usable_by,
    with_owner,
)
from ..db.tables import Account, User
from ..runtime import Server
from .auth import Caller, CallerDep, ServerDep, require_admin
from .errors import AUTH, ApiError, conflict, documented, not_found, unprocessable
from .schemas import MAX_ID, AccountIn, AccountOut, AccountPatch

AccountIdPath = Annotated[int, PathParameter(ge=1, le=MAX_ID)]


def to_out(account: Account, owner: str | None) -> AccountOut:
    return AccountOut(
        id=account.id,
        name=account.name,
        owner=owner,
        phone=account.phone,
        gateway=GatewayType(account.gateway),
        strip_diacritics=account.strip_diacritics,
        config=account.config,
        default=account.is_default,
        poll_incoming=account.poll_incoming,
        sharing=Sharing(account.sharing),
    )


def for_caller(out: AccountOut, caller: Caller) -> AccountOut:
    """Users without the admin right see an account's name, gateway and phone, not its
    configuration (paths, logins, hosts: nothing they need to send with it)."""
    return out if caller.is_admin else msgspec.structs.replace(out, config="")


def account_phone(raw: str) -> str:
    """The account's own number (or sender name), normalised; empty when not given."""
    if not raw.strip():
        return ""
    try:
        return normalize(raw).value
    except PhoneNumberError as exc:
        raise unprocessable("invalid_number", f"phone: {exc}") from None


def config_error(exc: AccountConfigError) -> ApiError:
    return unprocessable("invalid_config", f"config: {exc}")


async def owner_id(session: AsyncSession, name: str | None) -> int | None:
    if name is None:
        return None
    found = (await session.execute(select(User.id).where(User.name == name))).scalar()
    if found is None:
        raise unprocessable("unknown_owner", f"owner: there is no user named {name!r}")
    return found


async def _load(
    session: AsyncSession, account_id: int, caller: Caller
) -> tuple[Account, str | None]:
    query = with_owner() if caller.is_admin else usable_by(caller.id)
    row = (await session.execute(query.where(Account.id == account_id))).first()
    if row is None:
        raise not_found(f"account {account_id}")
    return row[0], row[1]


def _name_taken(name: str) -> ApiError:
    return conflict("name_taken", f"an account named {name!r} already exists")


@get("/api/accounts", summary="List SMS accounts", security=AUTH, responses=documented(401))
async def list_accounts(server: ServerDep, caller: CallerDep) -> list[AccountOut]:
    return await visible_accounts(server, caller)


async def visible_accounts(server: Server, caller: Caller) -> list[AccountOut]:
    """Every account for admins; for others those they may send with (API and pages)."""
    query = with_owner() if caller.is_admin else usable_by(caller.id)
    async with server.sessions() as session:
        rows = (await session.execute(query.order_by(Account.id))).all()
    return [for_caller(to_out(a, o), caller) for a, o in rows]


@get(
    "/api/accounts/{account_id:int}",
    summary="Read one SMS account",
    security=AUTH,
    responses=documented(400, 401, 404),
)
async def read_account(
    server: ServerDep, caller: CallerDep, account_id: AccountIdPath
) -> AccountOut:
    return await read(server, caller, account_id)


async def read(server: Server, caller: Caller, account_id: int) -> AccountOut:
    async with server.sessions() as session:
        return for_caller(to_out(*await _load(session, account_id, caller)), caller)


@post(
    "/api/accounts",
    status_code=201,
    summary="Create an SMS account (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 409, 422),
)
async def create_account(
    server: ServerDep, caller: CallerDep, data: JSONBody[AccountIn]
) -> AccountOut:
    try:
        return await create(server, caller, data)
    except AccountConfigError as exc:
        raise config_error(exc) from None


async def create(server: Server, caller: Caller, data: AccountIn) -> AccountOut:
    """Create an account (the API's and the accounts page's one way). Raises ApiError, or
    AccountConfigError with every problem and its line, for the caller to present."""
    require_admin(caller)
    try:
        async with server.sessions.begin() as session:
            config = await check_config(session, server.box, data.gateway, data.config)
            account = Account(
                name=data.name,
                owner_id=await owner_id(session, data.owner),
                phone=account_phone(data.phone),
                strip_diacritics=data.strip_diacritics,
                is_default=data.default,
                poll_incoming=data.poll_incoming,
                sharing=data.sharing.value,
            )
            apply_config(account, server.box, config)
            if data.default:
                await clear_default(session)
            session.add(account)
            await session.flush()
            agents = await save_lines(session, account)
            out = to_out(account, data.owner)
    except IntegrityError:
        raise _name_taken(data.name) from None
    server.accounts.invalidate()  # the send path reads accounts from this cache
    await _tell_agents(server, *agents)
    return out


@patch(
    "/api/accounts/{account_id:int}",
    summary="Change an SMS account (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 404, 409, 422),
)
async def update_account(
    server: ServerDep, caller: CallerDep, account_id: AccountIdPath, data: JSONBody[AccountPatch]
) -> AccountOut:
    try:
        return await update(server, caller, account_id, data)
    except AccountConfigError as exc:
        raise config_error(exc) from None


async def update(server: Server, caller: Caller, account_id: int, data: AccountPatch) -> AccountOut:
    """Change an account (API and pages). Raises ApiError or AccountConfigError."""
    require_admin(caller)
    try:
        async with server.sessions.begin() as session:
            account, owner = await _load(session, account_id, caller)
            before = await line_agents(session, account.id)
            await _apply_patch(session, server, account, data)
            if data.owner is not UNSET:
                owner = data.owner
            await session.flush()
            after = await save_lines(session, account)
            out = to_out(account, owner)
    except IntegrityError:
        raise _name_taken(str(data.name)) from None
    server.accounts.invalidate()
    await _tell_agents(server, *before, *after)
    return out


async def _tell_agents(server: Server, *agents: str | None) -> None:
    """An agent-backed account changed: its agent (and the one it left) gets the new
    configuration of its lines, wherever it is connected."""
    for agent in {a for a in agents if a}:
        await server.hub.notify(agent, "config")


async def _apply_patch(
    session: AsyncSession, server: Server, account: Account, data: AccountPatch
) -> None:
    if data.name is not UNSET:
        account.name = data.name
    if data.owner is not UNSET:
        account.owner_id = await owner_id(session, data.owner)
    if data.phone is not UNSET:
        account.phone = account_phone(data.phone)
    if data.strip_diacritics is not UNSET:
        account.strip_diacritics = data.strip_diacritics
    if data.poll_incoming is not UNSET:
        account.poll_incoming = data.poll_incoming
    if data.sharing is not UNSET:
        account.sharing = data.sharing.value
    if data.gateway is not UNSET or data.config is not UNSET:
        gateway = data.gateway if data.gateway is not UNSET else GatewayType(account.gateway)
        text = data.config if data.config is not UNSET else account.config
        config = await check_config(session, server.box, gateway, text, account)
        apply_config(account, server.box, config)
    if data.default is not UNSET:
        if data.default:
            await clear_default(session, keep=account.id)
        account.is_default = data.default


@delete(
    "/api/accounts/{account_id:int}",
    status_code=204,
    summary="Delete an SMS account (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 404),
)
async def delete_account(server: ServerDep, caller: CallerDep, account_id: AccountIdPath) -> None:
    await remove(server, caller, account_id)


async def remove(server: Server, caller: Caller, account_id: int) -> None:
    """Delete an account (API and pages)."""
    require_admin(caller)
    async with server.sessions.begin() as session:
        account, _ = await _load(session, account_id, caller)
        agents = await line_agents(session, account.id)
        await session.delete(account)
    server.accounts.invalidate()
    await _tell_agents(server, *agents)
