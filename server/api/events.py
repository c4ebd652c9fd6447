"""GET /api/events: the event feed, in order after a cursor, long-polling with `wait`."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from ..db.tables import Event
from ..events import catalogue
from ..events.feed import MAX_WAIT, CursorGone, EventPage, page
from ..messages.visibility import visible_to
from .auth import CallerDep, ServerDep
from .errors import AUTH, ApiError, documented

PAGE_DEFAULT, PAGE_MAX = 100, 1000


@get(
    "/api/events",
    summary="Events in order after a cursor; `wait` long-polls until one arrives",
    description="Each event has a stable `id`, its `type`, `time` and `data` (docs/events.md). "
    "Pass `next` as `after` to continue; without `after` the feed starts at the oldest event "
    "kept. A cursor older than the retention answers 410. You see the events of the messages "
    "you may read (as GET /api/messages); agent and line events are for admins.",
    security=AUTH,
    responses=documented(400, 401, 410),
)
async def list_events(
    server: ServerDep,
    caller: CallerDep,
    after: Annotated[
        str | None,
        QueryParameter(description="the `next` of the previous page", pattern=r"^[0-9]{1,18}$"),
    ] = None,
    types: Annotated[
        str | None,
        QueryParameter(description="comma-separated event types, e.g. message.delivered"),
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    wait: Annotated[
        float, QueryParameter(ge=0, le=MAX_WAIT, description="seconds to wait for an event")
    ] = 0,
) -> EventPage:
    wanted = [t.strip() for t in (types or "").split(",") if t.strip()]
    unknown = [t for t in wanted if t not in catalogue.TYPES]
    if unknown:
        raise ApiError(
            400,
            "invalid_request",
            f"types: unknown event type {unknown[0]!r} (known: {', '.join(catalogue.TYPES)})",
        )
    if after is not None and not after.isdigit():
        raise ApiError(400, "invalid_request", "after: use the `next` value of a page")
    visible = visible_to(caller.id, admin=caller.is_admin, reader=caller.can_read, table=Event)
    try:
        return await page(
            server.sessions,
            server.bell,
            visible,
            int(after) if after is not None else None,
            wanted,
            limit,
            wait,
        )
    except CursorGone as exc:
        raise ApiError(410, "cursor_expired", str(exc)) from None
