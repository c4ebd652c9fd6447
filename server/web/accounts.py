"""The SMS accounts page: list, create, edit, set default, delete (confirmed), send a test
SMS. Every change goes through the API's own functions (api/accounts.py, api/messages.py),
so the page and the REST API validate and act alike."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import FromQuery, PathParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from sms.model import GatewayType, Sharing

from ..accounts.config import AccountConfigError, default_config, stored_values
from ..api import accounts as api_accounts
from ..api import messages as api_messages
from ..api.agents import overview
from ..api.auth import ServerDep
from ..api.errors import ApiError, forbidden
from ..api.schemas import MAX_ID, AccountPatch, SendIn
from ..db.tables import User
from ..i18n.catalogue import N_
from ..i18n.codes import Said, said, said_error
from ..runtime import Server
from .confighelp import gateway_help, secret_states
from .forms import (
    FormErrors,
    api_errors,
    as_patch,
    config_errors,
    form_values,
    parse_account,
    values_of,
)
from .i18n import locale_for
from .render import page
from .session import UserDep, WebUser, form_of

AccountId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
TEST_TEXT = N_("smsbridge test message")
DONE = {
    "created": N_("Account %(name)s created."),
    "saved": N_("Account %(name)s saved."),
    "deleted": N_("Account %(name)s deleted."),
    "default": N_("%(name)s is now the default account for sending."),
}


def _admin(user: WebUser) -> None:
    if not user.caller.is_admin:
        raise forbidden(f"user {user.caller.name!r} is not an admin: accounts are read-only")


async def _user_names(server: Server) -> list[str]:
    async with server.sessions() as session:
        return list((await session.execute(select(User.name).order_by(User.name))).scalars())


@get("/")
async def accounts_page(
    server: ServerDep,
    user: UserDep,
    done: FromQuery[str | None] = None,
    name: FromQuery[str | None] = None,
) -> Template:
    accounts = await api_accounts.visible_accounts(server, user.caller)
    online = {a.name: a.online for a in await overview(server)} if user.caller.is_admin else {}
    notice = said(DONE[done], name=name or "") if done in DONE else None
    return page(
        "accounts.html",
        user,
        accounts=accounts,
        agent_of={a.id: stored_values(a.config).get("agent") for a in accounts},
        online=online,
        notice=notice,
    )


async def _form(
    server: Server,
    user: WebUser,
    values: dict[str, object],
    account_id: int | None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Template:
    gateway = GatewayType(str(values.get("gateway") or GatewayType.SMSBRANA.value))
    return page(
        "account_form.html",
        user,
        status=status,
        account_id=account_id,
        values=values,
        errors=errors or FormErrors(),
        gateways=list(GatewayType),
        sharings=list(Sharing),
        users=await _user_names(server),
        help=gateway_help(gateway),
        secrets=secret_states(gateway, str(values.get("config") or "")),
    )


@get("/accounts/new")
async def new_account(
    server: ServerDep, user: UserDep, gateway: FromQuery[str | None] = None
) -> Template:
    _admin(user)
    chosen = gateway if gateway in set(GatewayType) else GatewayType.SMSBRANA.value
    values: dict[str, object] = {
        "gateway": chosen,
        "config": default_config(GatewayType(chosen)),
        "sharing": Sharing.PRIVATE.value,
    }
    return await _form(server, user, values, None)


@get("/accounts/confighelp")
async def config_help(
    user: UserDep, gateway: FromQuery[str] = "", config: FromQuery[str] = ""
) -> Template:
    """The help beside the configuration box, swapped in by htmx when the gateway changes.
    A box still holding some gateway's starting text (or nothing) gets the new gateway's."""
    chosen = GatewayType(gateway) if gateway in set(GatewayType) else GatewayType.SMSBRANA
    untouched = {default_config(g).strip() for g in GatewayType} | {""}
    refill = config.replace("\r\n", "\n").strip() in untouched
    values = {"config": default_config(chosen)}
    return page(
        "config_help.html",
        user,
        help=gateway_help(chosen),
        secrets=[],
        oob=refill,
        values=values,
        errors=FormErrors(),
    )


async def _save(
    server: Server, user: WebUser, request: Request[Any, Any, Any], account_id: int | None
) -> Template | Redirect:
    form = await form_of(request, user)
    values = form_values(form)
    data, errors = parse_account(values)
    if data is None:
        return await _form(server, user, values, account_id, errors, 422)
    try:
        if account_id is None:
            saved = await api_accounts.create(server, user.caller, data)
        else:
            saved = await api_accounts.update(server, user.caller, account_id, as_patch(data))
    except AccountConfigError as exc:
        errors = config_errors(data.config, exc)
        return await _form(server, user, values, account_id, errors, 422)
    except ApiError as exc:
        if exc.status in (401, 403, 404):
            raise
        return await _form(server, user, values, account_id, api_errors(exc), exc.status)
    done = "created" if account_id is None else "saved"
    return Redirect("/", query_params={"done": done, "name": saved.name}, status_code=303)


@post("/accounts/new")
async def create_account(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any]
) -> Template | Redirect:
    return await _save(server, user, request, None)


@get("/accounts/{account_id:int}")
async def edit_account(server: ServerDep, user: UserDep, account_id: AccountId) -> Template:
    _admin(user)
    account = await api_accounts.read(server, user.caller, account_id)
    return await _form(server, user, values_of(account), account_id)


@post("/accounts/{account_id:int}")
async def update_account(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], account_id: AccountId
) -> Template | Redirect:
    return await _save(server, user, request, account_id)


@post("/accounts/{account_id:int}/default")
async def make_default(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], account_id: AccountId
) -> Redirect:
    await form_of(request, user)
    saved = await api_accounts.update(server, user.caller, account_id, AccountPatch(default=True))
    return Redirect("/", query_params={"done": "default", "name": saved.name}, status_code=303)


@get("/accounts/{account_id:int}/delete")
async def confirm_delete(server: ServerDep, user: UserDep, account_id: AccountId) -> Template:
    _admin(user)
    account = await api_accounts.read(server, user.caller, account_id)
    return page("account_delete.html", user, account=account)


@post("/accounts/{account_id:int}/delete")
async def delete_account(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], account_id: AccountId
) -> Redirect:
    await form_of(request, user)
    account = await api_accounts.read(server, user.caller, account_id)
    await api_accounts.remove(server, user.caller, account_id)
    return Redirect("/", query_params={"done": "deleted", "name": account.name}, status_code=303)


@get("/accounts/{account_id:int}/test")
async def test_form(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], account_id: AccountId
) -> Template:
    account = await api_accounts.read(server, user.caller, account_id)
    text = locale_for(request, (user.language, user.time_zone)).gettext(TEST_TEXT)
    values = {"to": "", "text": text}
    return page("account_test.html", user, account=account, values=values, errors={})


@post("/accounts/{account_id:int}/test")
async def send_test(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], account_id: AccountId
) -> Template | Redirect:
    form = await form_of(request, user)
    account = await api_accounts.read(server, user.caller, account_id)
    values = {"to": form.get("to", "").strip(), "text": form.get("text", "")}
    errors: dict[str, Said] = {}
    if not values["to"]:
        errors["to"] = said(N_("a number to send to is needed"))
    if not values["text"]:
        errors["text"] = said(N_("a text is needed"))
    if not errors:
        try:
            sent = await api_messages.send(
                server,
                user.caller,
                SendIn(to=values["to"], text=values["text"], account=account_id),
            )
        except ApiError as exc:
            if exc.status in (401, 403, 404):
                raise
            field = "to" if exc.detail.startswith("to:") else "text"
            errors[field] = said_error(exc.error, exc.detail.split(": ", 1)[-1])
        else:
            query = {"account": str(account_id), "sent": sent.id}
            return Redirect("/messages", query_params=query, status_code=303)
    return page(
        "account_test.html", user, account=account, values=values, errors=errors, status=422
    )
