"""/api/messages: send (202 once committed as `queued`), preview, read and list."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Annotated, Literal

from litestar import get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sms.model import Direction, GatewayType, MessageState
from sms.phone import NumberKind, PhoneNumberError, normalize

from ..accounts.cache import AccountView
from ..db.tables import Message, PartReport, utc
from ..gateways.base import Job
from ..messages.compose import Composition, compose
from ..messages.visibility import visible_to
from ..runtime import Server
from .auth import Caller, CallerDep, ServerDep
from .errors import AUTH, ApiError, conflict, documented, forbidden, not_found, unprocessable
from .message_control import Control, control
from .message_filters import WithCsv, csv_response, filtered
from .optouts import refuse_opted_out, transactional_allowed
from .schemas import (
    MAX_ID,
    Accepted,
    MessageOut,
    MessagePage,
    PartOut,
    PreviewIn,
    PreviewOut,
    SendIn,
)

PAGE_DEFAULT, PAGE_MAX = 100, 1000
PRIORITY_NAMES = {0: "high", 1: "normal", 2: "bulk"}
log = logging.getLogger("smsbridge.server.messages")


def recipient(raw: str) -> str:
    try:
        address = normalize(raw)
    except PhoneNumberError as exc:
        raise unprocessable("invalid_number", f"to: {exc}") from None
    if address.kind is NumberKind.ALPHANUMERIC:
        raise unprocessable("invalid_number", f"to: {raw!r} is a sender name, not a number")
    return address.value


async def choose_account(server: Server, caller: Caller, wanted: int | None) -> AccountView:
    """The named account if the caller may send with it, else the default one."""
    if wanted is not None:
        account = await server.accounts.get(wanted)
        # One answer for "does not exist" and "not yours": neither its existence nor its
        # owner is told to someone who may not use it.
        if account is None or not account.usable_by(caller.id):
            raise unprocessable(
                "unknown_account", f"account: there is no account {wanted} you may send with"
            )
        return account
    found = await server.accounts.default_for(caller.id)
    if found is None:
        raise unprocessable(
            "no_account", "account: there is no default account you may send with; name one"
        )
    return found


def check_fits(comp: Composition, gateway: GatewayType) -> None:
    if comp.fits:
        return
    raise unprocessable(
        "message_too_long",
        f"text: needs {comp.parts} SMS parts ({comp.encoding}, {comp.units} units); "
        f"gateway {gateway} allows {comp.max_parts}",
    )


def request_hash(to: str, text: str, account: int | None) -> str:
    return hashlib.sha256(f"{to}\x00{account}\x00{text}".encode()).hexdigest()


async def replay(server: Server, caller: Caller, key: str, digest: str) -> Accepted | None:
    """The first answer for this Idempotency-Key, or None when the key is new."""
    async with server.sessions() as session:
        found = (
            await session.execute(
                select(Message.id, Message.state, Message.parts, Message.request_hash).where(
                    Message.user_id == caller.id, Message.idempotency_key == key
                )
            )
        ).first()
    if found is None:
        return None
    if found.request_hash != digest:
        raise conflict(
            "idempotency_conflict",
            f"Idempotency-Key {key!r} was used for a different message ({found.id})",
        )
    return Accepted(found.id, MessageState(found.state), found.parts)


IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=200,
        description="A retried POST with the same key gets the first answer; nothing is sent twice",
    ),
]


@post(
    "/api/messages",
    status_code=202,
    summary="Send an SMS",
    security=AUTH,
    responses=documented(400, 401, 403, 409, 422),
)
async def send_message(
    server: ServerDep,
    caller: CallerDep,
    data: JSONBody[SendIn],
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    return await send(server, caller, data, idempotency_key)


async def send(
    server: Server,
    caller: Caller,
    data: SendIn,
    idempotency_key: str | None = None,
    opted_out: Mapping[tuple[int, str], str] | None = None,
    new_key: bool = False,
) -> Accepted:
    """Commit a message as `queued` and hand it to its gateway (the API's and the pages'
    one way to send). Raises ApiError. `opted_out`: (account, number) → refusal, already
    looked up for a whole batch (None: look it up here); `new_key`: the batch found that
    the Idempotency-Key was never used (no lookup here)."""
    if not caller.can_send:
        raise forbidden(f"user {caller.name!r} may not send SMS")
    to = recipient(data.to)
    digest = request_hash(to, data.text, data.account)
    if (
        idempotency_key
        and not new_key
        and (first := await replay(server, caller, idempotency_key, digest))
    ):
        return first
    account = await choose_account(server, caller, data.account)
    gateway = account.gateway
    comp = compose(data.text, strip=account.strip_diacritics, gateway=gateway)
    check_fits(comp, gateway)
    now = dt.datetime.now(dt.UTC)
    ctl = control_of(server, data, account, now)
    if opted_out is None:
        if refused := await refuse_opted_out(server, account, [to], data.category):
            raise unprocessable("opted_out", refused[to])
    elif (why := opted_out.get((account.id, to))) and not transactional_allowed(
        account, data.category
    ):
        raise unprocessable("opted_out", why)
    message_id = uuid.uuid4().hex
    row = {
        "id": message_id,
        "direction": Direction.OUT.value,
        "account_id": account.id,
        "gateway": gateway.value,
        "user_id": caller.id,
        "peer": to,
        "text": comp.text,
        "encoding": comp.encoding.value,
        "parts": comp.parts,
        "state": MessageState.QUEUED.value,
        "idempotency_key": idempotency_key,
        "request_hash": digest,
        "created_at": now,
        **ctl.columns(),
    }
    try:
        await server.writer.insert(row)
    except IntegrityError:
        # Another request with the same key won the race; answer what it got.
        if idempotency_key and (first := await replay(server, caller, idempotency_key, digest)):
            return first
        raise
    if ctl.state is not MessageState.QUEUED:
        if server.scheduler is not None:
            server.scheduler.want()
        return Accepted(message_id, ctl.state, comp.parts)
    job = Job(
        id=message_id,
        account_id=account.id,
        to=to,
        text=comp.text,
        parts=comp.parts,
        config=account.config,
        secrets=account.secrets,
        sender=ctl.sender,
        valid_until=ctl.valid_until,
    )
    try:
        await server.gateways.get(gateway).hand_off([job])
    except Exception:
        # The message is committed as `queued`, which stays true; the 202 stands and the
        # gateway's failure is the operator's to see, not the caller's to retry.
        log.exception("gateway %s refused message %s at hand-off", gateway, message_id)
    return Accepted(message_id, MessageState.QUEUED, comp.parts)


def control_of(server: Server, data: SendIn, account: AccountView, now: dt.datetime) -> Control:
    return control(
        send_at=data.send_at,
        valid_until=data.valid_until,
        ttl=data.ttl,
        priority=data.priority,
        sender=data.sender,
        flash=data.flash,
        category=data.category,
        gateway=account.gateway,
        config=account.config,
        default_zone=server.settings.time_zone,
        now=now,
    )


@post(
    "/api/messages/preview",
    status_code=200,
    summary="What a text becomes, without sending",
    security=AUTH,
    responses=documented(400, 401, 403, 422),
)
async def preview_message(
    server: ServerDep, caller: CallerDep, data: JSONBody[PreviewIn]
) -> PreviewOut:
    return await preview(server, caller, data)


async def preview(server: Server, caller: Caller, data: PreviewIn) -> PreviewOut:
    """What a text becomes through its account (the API's and the pages' preview)."""
    if not caller.can_send:
        raise forbidden(f"user {caller.name!r} may not send SMS")
    to = recipient(data.to) if data.to is not None else None
    account = await choose_account(server, caller, data.account)
    comp = compose(data.text, strip=account.strip_diacritics, gateway=account.gateway)
    return PreviewOut(
        to=to,
        account=account.id,
        text=comp.text,
        encoding=comp.encoding,
        parts=comp.parts,
        units=comp.units,
        max_parts=comp.max_parts,
        fits=comp.fits,
        ucs2_chars=comp.ucs2_chars,
    )


def parse_time(name: str, raw: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        when = None
    if when is None or not raw[:4].isdigit():
        raise ApiError(400, "invalid_request", f"{name}: {raw!r} is not an ISO 8601 time")
    return when


# A part with no report of its own follows the message's state as far as it can tell.
_PART_FROM_MESSAGE = {
    MessageState.SCHEDULED.value: "pending",
    MessageState.CANCELLED.value: "unknown",
    MessageState.QUEUED.value: "pending",
    MessageState.DISPATCHED.value: "pending",
    MessageState.SENT.value: "sent",
    MessageState.DELIVERED.value: "delivered",
    MessageState.FAILED.value: "unknown",  # a partial send is told in the detail only
}


def part_states(m: Message, reports: Sequence[PartReport]) -> list[PartOut]:
    if m.direction != Direction.OUT.value:
        return []
    known = {r.part: r for r in reports}
    out = []
    for number in range(1, m.parts + 1):
        report = known.get(number)
        if report is None:
            out.append(PartOut(number, _PART_FROM_MESSAGE[m.state]))  # type: ignore[arg-type]
        elif report.delivered is None:
            out.append(PartOut(number, "sent"))
        else:
            out.append(
                PartOut(number, "delivered" if report.delivered else "failed", report.status)
            )
    return out


async def load_reports(
    session: AsyncSession, messages: Sequence[Message]
) -> dict[str, list[PartReport]]:
    ids = [m.id for m in messages if m.direction == Direction.OUT.value]
    found: dict[str, list[PartReport]] = {}
    if ids:
        rows = await session.execute(select(PartReport).where(PartReport.message_id.in_(ids)))
        for report in rows.scalars():
            found.setdefault(report.message_id, []).append(report)
    return found


def to_out(m: Message, reports: Sequence[PartReport] = ()) -> MessageOut:
    outbound = m.direction == Direction.OUT.value
    return MessageOut(
        id=m.id,
        direction=Direction(m.direction),
        account=m.account_id,
        gateway=GatewayType(m.gateway),
        to=m.peer if outbound else None,
        from_=None if outbound else m.peer,
        text=m.text,
        encoding=m.encoding,  # type: ignore[arg-type]
        parts=m.parts,
        state=MessageState(m.state),
        reason=m.reason,
        detail=m.detail,
        created_at=utc(m.created_at),
        dispatched_at=utc(m.dispatched_at),
        sent_at=utc(m.sent_at),
        delivered_at=utc(m.delivered_at),
        failed_at=utc(m.failed_at),
        part_states=part_states(m, reports),
        line=m.line,
        route=m.route,
        send_at=utc(m.send_at),
        valid_until=utc(m.valid_until),
        priority=PRIORITY_NAMES.get(m.priority, "normal"),  # type: ignore[arg-type]
        sender=m.sender,
        flash=bool(m.flash),
        category=m.category,
    )


def visible(caller: Caller) -> ColumnElement[bool]:
    """The messages `caller` may read (messages/visibility.py), as a query filter."""
    return visible_to(caller.id, admin=caller.is_admin, reader=caller.can_read)


@get(
    "/api/messages/{message_id:str}",
    summary="Read one message and its state",
    security=AUTH,
    responses=documented(400, 401, 404),
)
async def read_message(
    server: ServerDep, caller: CallerDep, message_id: FromPath[str]
) -> MessageOut:
    async with server.sessions() as session:
        found = (
            await session.execute(select(Message).where(Message.id == message_id, visible(caller)))
        ).scalar()
        if found is None:
            raise not_found(f"message {message_id!r}")
        reports = await load_reports(session, [found])
    return to_out(found, reports.get(found.id, []))


@get(
    "/api/messages",
    summary="List messages, oldest first, a page at a time",
    security=AUTH,
    responses=documented(400, 401, 422),
    operation_class=WithCsv,
)
async def list_messages(
    server: ServerDep,
    caller: CallerDep,
    direction: FromQuery[Direction | None] = None,
    account: Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)] = None,
    # `state` is a name Litestar reserves for the app state, hence the alias.
    message_state: Annotated[MessageState | None, QueryParameter(name="state")] = None,
    # A string parsed here: msgspec would also take a bare number as a Unix time.
    since: Annotated[
        str | None,
        QueryParameter(
            description="only messages created at or after this ISO 8601 time",
            schema_extra={"format": "date-time"},
        ),
    ] = None,
    after: Annotated[
        str | None,
        QueryParameter(description="the `next` of the previous page", pattern=r"^[0-9]{1,18}$"),
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    to: Annotated[
        str | None, QueryParameter(description="outbound to this number", max_length=64)
    ] = None,
    from_: Annotated[
        str | None,
        QueryParameter(name="from", description="inbound from this number", max_length=64),
    ] = None,
    q: Annotated[
        str | None, QueryParameter(description="the text contains this", max_length=200)
    ] = None,
    until: Annotated[
        str | None,
        QueryParameter(
            description="only messages created before this ISO 8601 time",
            schema_extra={"format": "date-time"},
        ),
    ] = None,
    format: Annotated[
        Literal["json", "csv"], QueryParameter(description="csv: the page as CSV")
    ] = "json",
) -> MessagePage:
    query = select(Message).where(visible(caller))
    query = filtered(query, to=to, from_=from_, q=q, until=until)
    if direction is not None:
        query = query.where(Message.direction == direction.value)
    if account is not None:
        query = query.where(Message.account_id == account)
    if message_state is not None:
        query = query.where(Message.state == message_state.value)
    if since is not None:
        query = query.where(Message.created_at >= utc(parse_time("since", since)))
    if after is not None:
        if not after.isdigit():
            raise ApiError(400, "invalid_request", "after: use the `next` value of a page")
        query = query.where(Message.seq > int(after))
    async with server.sessions() as session:
        rows = (await session.execute(query.order_by(Message.seq).limit(limit + 1))).scalars().all()
        page = rows[:limit]
        reports = await load_reports(session, page)
    more = len(rows) > limit
    result = MessagePage(
        [to_out(m, reports.get(m.id, [])) for m in page], str(page[-1].seq) if more else None
    )
    if format == "csv":
        return csv_response(result)  # type: ignore[return-value]
    return result
