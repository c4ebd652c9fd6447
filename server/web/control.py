"""Pages for control over when and to whom: the "Send SMS" form (with a live part count
and the text as it will be sent), scheduled / cancelled / expired messages with a cancel
button, and the opt-out list (admins) with add and remove. They call the API's own
functions, so the checks and errors are the API's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Request, get, post
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy import and_, or_, select

from sms.model import MessageState

from ..api import accounts as api_accounts
from ..api import messages as api_messages
from ..api import optouts as api_optouts
from ..api.auth import ServerDep
from ..api.errors import ApiError, forbidden
from ..api.message_cancel import cancel
from ..api.schemas import OptOutIn, SendIn
from ..db.tables import Message
from ..i18n import choose
from ..i18n.catalogue import N_
from ..i18n.codes import Said, said, said_error
from ..messages.compose import compose
from ..runtime import Server
from .render import page
from .session import UserDep, WebUser, form_of

RECENT = 100
BAD_TIME = N_("a date and time, e.g. 2026-12-24 18:00")
BAD_TTL = N_("whole minutes, e.g. 30")
NEEDED = N_("needed")
Short = Annotated[str | None, QueryParameter(max_length=5000)]


def _may_send(user: WebUser) -> None:
    if not user.caller.can_send:
        raise forbidden(f"user {user.caller.name!r} may not send SMS")


async def _send_page(
    server: Server, user: WebUser, values: dict[str, str], errors: dict[str, Said], status: int
) -> Template:
    _may_send(user)
    accounts = await api_accounts.visible_accounts(server, user.caller)
    return page(
        "control_send.html",
        user,
        status=status,
        accounts=accounts,
        values=values,
        errors=errors,
        zone=_zone(server, user),
    )


@get("/send")
async def send_page(server: ServerDep, user: UserDep) -> Template:
    values = {"account": "", "to": "", "text": "", "send_at": "", "ttl": "", "priority": "normal"}
    return await _send_page(server, user, values, {}, 200)


@get("/send/preview")
async def send_preview(
    server: ServerDep, user: UserDep, text: Short = None, account: Short = None
) -> Template:
    _may_send(user)
    """The part count and the text as it will go (htmx, as the text is typed)."""
    wanted = int(account) if account and account.isdigit() and len(account) < 10 else None
    try:
        chosen = await api_messages.choose_account(server, user.caller, wanted)
    except ApiError as exc:
        return page(
            "control_preview.html", user, error=said_error(exc.error, exc.detail), comp=None
        )
    comp = compose(text or "", strip=chosen.strip_diacritics, gateway=chosen.gateway)
    return page("control_preview.html", user, error=None, comp=comp, changed=comp.text != text)


def _zone(server: Server, user: WebUser) -> str:
    """The user's time zone (their choice, else the server's), as the pages show times."""
    return choose.zone(user.time_zone, server.settings.time_zone)


def _local_time(raw: str, zone: str) -> str:
    """A datetime-local field (no zone) read in the user's time zone, as RFC 3339."""
    when = dt.datetime.fromisoformat(raw)
    return when.replace(tzinfo=ZoneInfo(zone)).isoformat()


@post("/send")
async def send_form(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any]
) -> Template | Redirect:
    form = await form_of(request, user)
    keys = ("account", "to", "text", "send_at", "ttl", "priority")
    values = {k: form.get(k, "").strip() if k != "text" else form.get(k, "") for k in keys}
    errors: dict[str, Said] = {}
    body: dict[str, Any] = {"to": values["to"], "text": values["text"]}
    body["priority"] = values["priority"] or "normal"
    if values["account"].isdigit():
        body["account"] = int(values["account"])
    if values["send_at"]:
        try:
            body["send_at"] = _local_time(values["send_at"], _zone(server, user))
        except ValueError:
            errors["send_at"] = said(BAD_TIME)
    if values["ttl"]:
        if values["ttl"].isdigit() and int(values["ttl"]) > 0:
            body["ttl"] = int(values["ttl"]) * 60
        else:
            errors["ttl"] = said(BAD_TTL)
    for field in ("to", "text"):
        if not values[field]:
            errors[field] = said(NEEDED)
    if not errors:
        try:
            data = SendIn(**body)
            sent = await api_messages.send(server, user.caller, data)
        except TypeError as exc:
            errors["general"] = said_error("invalid_request", str(exc))
        except ApiError as exc:
            if exc.status in (401, 403):
                raise
            field, _, why = exc.detail.partition(": ")
            shown = said_error(exc.error, why or exc.detail)
            errors[field if why and field in keys else "general"] = shown
        else:
            target = "/scheduled" if sent.state is MessageState.SCHEDULED else "/messages"
            return Redirect(target, query_params={"sent": sent.id}, status_code=303)
    return await _send_page(server, user, values, errors, 422)


def _controlled() -> Any:
    return or_(
        Message.state.in_([MessageState.SCHEDULED.value, MessageState.CANCELLED.value]),
        and_(Message.state == MessageState.FAILED.value, Message.reason == "expired"),
    )


@get("/scheduled")
async def scheduled_page(
    server: ServerDep,
    user: UserDep,
    sent: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> Template:
    query = select(Message).where(api_messages.visible(user.caller), _controlled())
    async with server.sessions() as session:
        rows = (
            (await session.execute(query.order_by(Message.seq.desc()).limit(RECENT)))
            .scalars()
            .all()
        )
    accounts = await api_accounts.visible_accounts(server, user.caller)
    return page(
        "control_scheduled.html",
        user,
        messages=[api_messages.to_out(m) for m in rows],
        account_names={a.id: a.name for a in accounts},
        sent=sent,
    )


@post("/scheduled/{message_id:str}/cancel")
async def cancel_form(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], message_id: FromPath[str]
) -> Redirect:
    await form_of(request, user)
    await cancel(server, user.caller, message_id)  # a 409 shows the error page with where
    return Redirect("/scheduled", status_code=303)


async def _optouts_page(
    server: Server, user: WebUser, errors: dict[str, Said], values: dict[str, str], status: int
) -> Template:
    listed = await api_optouts.list_optouts.fn(server=server, caller=user.caller)
    accounts = await api_accounts.visible_accounts(server, user.caller)
    return page(
        "control_optouts.html",
        user,
        status=status,
        optouts=listed,
        account_names={a.id: a.name for a in accounts},
        accounts=accounts,
        errors=errors,
        values=values,
    )


@get("/optouts")
async def optouts_page(server: ServerDep, user: UserDep) -> Template:
    return await _optouts_page(server, user, {}, {"number": "", "account": "", "reason": ""}, 200)


@post("/optouts")
async def add_optout_form(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any]
) -> Template | Redirect:
    form = await form_of(request, user)
    values = {k: form.get(k, "").strip() for k in ("number", "account", "reason")}
    data = OptOutIn(
        number=values["number"] or " ",
        account=int(values["account"]) if values["account"].isdigit() else None,
        reason=values["reason"] or "added on the opt-out page",
    )
    try:
        await api_optouts.add_optout.fn(server=server, caller=user.caller, data=data)
    except ApiError as exc:
        if exc.status in (401, 403):
            raise
        errors = {"number": said_error(exc.error, exc.detail)}
        return await _optouts_page(server, user, errors, values, 422)
    return Redirect("/optouts", status_code=303)


@post("/optouts/remove")
async def remove_optout_form(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any]
) -> Redirect:
    form = await form_of(request, user)
    account = form.get("account", "")
    await api_optouts.remove_optout.fn(
        server=server,
        caller=user.caller,
        number=form.get("number", ""),
        account=int(account) if account.isdigit() else None,
    )
    return Redirect("/optouts", status_code=303)


HANDLERS = (
    send_page,
    send_preview,
    send_form,
    scheduled_page,
    cancel_form,
    optouts_page,
    add_optout_form,
    remove_optout_form,
)
