"""GET /api/messages' filters by number, text and time, and its CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from litestar import Response
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Schema
from sqlalchemy import Select

from sms.model import Direction
from sms.phone import PhoneNumberError, normalize

from ..db.tables import Message, utc
from .errors import unprocessable
from .schemas import MessagePage

CSV_COLUMNS = (
    "id", "direction", "account", "gateway", "to", "from", "text", "parts", "state",
    "reason", "detail", "priority", "send_at", "valid_until", "created_at", "sent_at",
    "delivered_at", "failed_at", "line",
)  # fmt: skip


def filtered(
    query: Select, *, to: str | None, from_: str | None, q: str | None, until: str | None
) -> Select:
    from .messages import parse_time, recipient  # one parser of numbers and times

    if to is not None:
        query = query.where(Message.direction == Direction.OUT.value, Message.peer == recipient(to))
    if from_ is not None:
        query = query.where(Message.direction == Direction.IN.value, Message.peer == _number(from_))
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Message.text.ilike(f"%{escaped}%", escape="\\"))
    if until is not None:
        query = query.where(Message.created_at < utc(parse_time("until", until)))
    return query


def _number(raw: str) -> str:
    """A sender may be a name (alphanumeric): normalize keeps it as it is."""
    try:
        return normalize(raw).value
    except PhoneNumberError as exc:
        raise unprocessable("invalid_number", f"from: {exc}") from None


def csv_response(page: MessagePage) -> Response[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for m in page.messages:
        writer.writerow(
            [
                m.id, m.direction, m.account, m.gateway, m.to, m.from_, m.text, m.parts,
                m.state, m.reason, m.detail, m.priority, _t(m.send_at), _t(m.valid_until),
                _t(m.created_at), _t(m.sent_at), _t(m.delivered_at), _t(m.failed_at), m.line,
            ]
        )  # fmt: skip
    headers = {"Content-Disposition": 'attachment; filename="messages.csv"'}
    if page.next is not None:
        headers["X-Next"] = page.next  # the `after` of the next page
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _t(when: object) -> str:
    return "" if when is None else when.isoformat()  # type: ignore[attr-defined]


@dataclass
class WithCsv(Operation):
    """The list's OpenAPI entry: its 200 is JSON, or CSV with format=csv."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        content = getattr(ok, "content", None)
        if content is not None:
            content["text/csv"] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
