"""The conversation page: every message to and from one number in one thread, oldest at
the top, and a reply box. The reply goes through the account the number last wrote to
(else the one last used to write to it, else the sender's default); which line of that
account carries it is the API's own sticky routing. The live preview (parts, encoding,
the text as it leaves after stripping diacritics) is the API's preview. Who sees which
message is the API's filter (api/messages.py `visible`, sharing modes included)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.params import FromQuery, PathParameter
from litestar.response import Redirect, Template
from sqlalchemy import select

from sms.model import Direction
from sms.phone import NumberKind, PhoneNumberError, normalize

from ..api import accounts as api_accounts
from ..api import messages as api_messages
from ..api.auth import ServerDep
from ..api.errors import ApiError, forbidden
from ..api.messages import load_reports, to_out, visible
from ..api.schemas import MessageOut, PreviewIn, SendIn
from ..db.tables import Message
from ..i18n.catalogue import N_
from ..i18n.codes import Said, said, said_error
from ..runtime import Server
from .render import page
from .session import UserDep, WebUser, form_of

THREAD = 200  # the newest this many; older ones are on the messages page and the API
REFRESH_SECONDS = 3
Number = Annotated[str, PathParameter(min_length=1, max_length=64)]


def is_number(peer: str) -> bool:
    try:
        return normalize(peer).kind is not NumberKind.ALPHANUMERIC
    except PhoneNumberError:
        return False


def peer_of(raw: str) -> str:
    """The number as messages store it (E.164), or a sender name as it is."""
    try:
        return normalize(raw).value
    except PhoneNumberError:
        return raw.strip()


async def thread(server: Server, user: WebUser, peer: str) -> list[Message]:
    query = (
        select(Message)
        .where(Message.peer == peer, visible(user.caller))
        .order_by(Message.seq.desc())
        .limit(THREAD)
    )
    async with server.sessions() as session:
        return list(reversed((await session.execute(query)).scalars().all()))


def reply_account(messages: list[Message], usable: set[int]) -> int | None:
    """The account the number last wrote to, else the last one that wrote to it, among
    those the user may send with; None: the user's default account."""
    for direction in (Direction.IN.value, Direction.OUT.value):
        for m in reversed(messages):
            if m.direction == direction and m.account_id in usable:
                return m.account_id
    return None


async def _outs(server: Server, rows: list[Message]) -> list[MessageOut]:
    async with server.sessions() as session:
        reports = await load_reports(session, rows)
    return [to_out(m, reports.get(m.id, [])) for m in rows]


async def _context(server: Server, user: WebUser, peer: str) -> dict[str, Any]:
    rows = await thread(server, user, peer)
    accounts = await api_accounts.visible_accounts(server, user.caller)
    usable = {a.id for a in accounts if a.owner in (None, user.caller.name)}
    return {
        "peer": peer,
        "messages": await _outs(server, rows),
        "account_names": {a.id: a.name for a in accounts},
        "reply_account": reply_account(rows, usable),
        "can_reply": user.caller.can_send and is_number(peer),
        "refresh": REFRESH_SECONDS,
    }


@get("/conversations/{number:str}")
async def conversation_page(
    server: ServerDep, user: UserDep, number: Number, sent: FromQuery[str | None] = None
) -> Template:
    context = await _context(server, user, peer_of(number))
    return page(
        "conversation.html", user, active="messages", sent=sent, text="", errors={}, **context
    )


@get("/conversations/{number:str}/thread")
async def conversation_thread(
    server: ServerDep, user: UserDep, number: Number, sent: FromQuery[str | None] = None
) -> Template:
    """The thread alone, for htmx's periodic refresh."""
    context = await _context(server, user, peer_of(number))
    return page("conversation_thread.html", user, sent=sent, **context)


def _account_field(form: dict[str, str]) -> int | None:
    raw = form.get("account", "")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


@post("/conversations/{number:str}")
async def reply(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], number: Number
) -> Template | Redirect:
    form = await form_of(request, user)
    peer = peer_of(number)
    text = form.get("text", "")
    error: Said | None = None
    if not text.strip():
        error = said(N_("a text is needed"))
    else:
        try:
            sent = await api_messages.send(
                server, user.caller, SendIn(to=peer, text=text, account=_account_field(form))
            )
        except ApiError as exc:
            if exc.status == 401:
                raise
            error = said_error(exc.error, exc.detail)
        else:
            target = f"/conversations/{quote(peer, safe='')}"
            return Redirect(target, query_params={"sent": sent.id}, status_code=303)
    context = await _context(server, user, peer)
    return page(
        "conversation.html",
        user,
        status=422,
        active="messages",
        sent=None,
        text=text,
        errors={"text": error},
        **context,
    )


@post("/conversations/preview")
async def preview(server: ServerDep, user: UserDep, request: Request[Any, Any, Any]) -> Template:
    """The reply box's live preview (htmx, on every pause in typing)."""
    form = await form_of(request, user)
    if not user.caller.can_send:
        raise forbidden(f"user {user.caller.name!r} may not send SMS")
    text = form.get("text", "")
    result, error = None, None
    if text:
        try:
            result = await api_messages.preview(
                server, user.caller, PreviewIn(text=text[:5000], account=_account_field(form))
            )
        except ApiError as exc:
            error = said_error(exc.error, exc.detail)
    return page("conversation_preview.html", user, preview=result, error=error, text=text)
