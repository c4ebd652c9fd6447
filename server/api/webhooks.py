"""/api/webhooks (admins): endpoints that are sent every event of their types, their
deliveries with every attempt, a test event, and redelivery."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from ..runtime import Server
from ..webhooks import manage
from ..webhooks.manage import WebhookError
from ..webhooks.schemas import (
    DeliveryPage,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
)
from .auth import CallerDep, ServerDep, require_admin
from .errors import AUTH, ApiError, documented
from .schemas import MAX_ID

# Larger ids cannot exist (INTEGER / BIGINT columns): a 400, not a database error.
WebhookId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
DeliveryId = Annotated[int, PathParameter(ge=1, le=2**53)]  # exact in a JSON number


def own_addresses(server: Server, request: Request[Any, Any, Any]) -> set[tuple[str, int]]:
    """Where this server is reached: its listening address and the request's Host."""
    own = {(server.settings.host, server.settings.port)}
    url = request.base_url
    if url.hostname:
        own.add((url.hostname.lower(), url.port or (443 if url.scheme == "https" else 80)))
    return own


def _api(exc: WebhookError) -> ApiError:
    return ApiError(exc.status, exc.error, exc.detail)


@post(
    "/api/webhooks",
    status_code=201,
    summary="Add a webhook (admin); its secret is shown once",
    security=AUTH,
    responses=documented(400, 401, 403, 422),
)
async def create_webhook(
    server: ServerDep, caller: CallerDep, request: Request[Any, Any, Any], data: JSONBody[WebhookIn]
) -> WebhookCreated:
    require_admin(caller)
    try:
        async with server.sessions.begin() as session:
            created = await manage.create(session, server.box, data, own_addresses(server, request))
    except WebhookError as exc:
        raise _api(exc) from None
    if server.webhooks is not None:
        server.webhooks.kick()
    return created


@get(
    "/api/webhooks",
    summary="List webhooks (admin)",
    security=AUTH,
    responses=documented(400, 401, 403),
)
async def list_webhooks(server: ServerDep, caller: CallerDep) -> list[WebhookOut]:
    require_admin(caller)
    async with server.sessions() as session:
        return await manage.list_all(session)


@get(
    "/api/webhooks/{webhook_id:int}",
    summary="Read a webhook (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 404),
)
async def read_webhook(server: ServerDep, caller: CallerDep, webhook_id: WebhookId) -> WebhookOut:
    require_admin(caller)
    try:
        async with server.sessions() as session:
            return await manage.read(session, webhook_id)
    except WebhookError as exc:
        raise _api(exc) from None


@patch(
    "/api/webhooks/{webhook_id:int}",
    summary="Change a webhook (admin); active=true also clears disabled",
    security=AUTH,
    responses=documented(400, 401, 403, 404, 422),
)
async def update_webhook(
    server: ServerDep,
    caller: CallerDep,
    request: Request[Any, Any, Any],
    webhook_id: WebhookId,
    data: JSONBody[WebhookPatch],
) -> WebhookOut:
    require_admin(caller)
    try:
        async with server.sessions.begin() as session:
            out = await manage.change(
                session, server.box, webhook_id, data, own_addresses(server, request)
            )
    except WebhookError as exc:
        raise _api(exc) from None
    if server.webhooks is not None:
        server.webhooks.kick()
    return out


@delete(
    "/api/webhooks/{webhook_id:int}",
    status_code=204,
    summary="Delete a webhook and its deliveries (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 404),
)
async def delete_webhook(server: ServerDep, caller: CallerDep, webhook_id: WebhookId) -> None:
    require_admin(caller)
    try:
        async with server.sessions.begin() as session:
            await manage.remove(session, webhook_id)
    except WebhookError as exc:
        raise _api(exc) from None


@get(
    "/api/webhooks/{webhook_id:int}/deliveries",
    summary="A webhook's deliveries, newest first, each with every attempt (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 404),
)
async def list_deliveries(
    server: ServerDep,
    caller: CallerDep,
    webhook_id: WebhookId,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
) -> DeliveryPage:
    require_admin(caller)
    try:
        async with server.sessions() as session:
            return DeliveryPage(await manage.deliveries(session, webhook_id, limit))
    except WebhookError as exc:
        raise _api(exc) from None


@post(
    "/api/webhooks/{webhook_id:int}/test",
    status_code=202,
    summary="Send a webhook.test event to this webhook (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 404),
)
async def test_webhook(
    server: ServerDep, caller: CallerDep, webhook_id: WebhookId
) -> dict[str, int]:
    require_admin(caller)
    try:
        async with server.sessions.begin() as session:
            delivery = await manage.send_test(session, webhook_id)
    except WebhookError as exc:
        raise _api(exc) from None
    if server.webhooks is not None:
        server.webhooks.kick()
    return {"delivery": delivery}


@post(
    "/api/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}/redeliver",
    status_code=202,
    summary="Send a delivery again now, with the same webhook-id (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 404),
)
async def redeliver(
    server: ServerDep, caller: CallerDep, webhook_id: WebhookId, delivery_id: DeliveryId
) -> dict[str, int]:
    require_admin(caller)
    try:
        async with server.sessions.begin() as session:
            await manage.redeliver(session, webhook_id, delivery_id)
    except WebhookError as exc:
        raise _api(exc) from None
    if server.webhooks is not None:
        server.webhooks.kick()
    return {"delivery": delivery_id}


ROUTES = [
    create_webhook,
    list_webhooks,
    read_webhook,
    update_webhook,
    delete_webhook,
    list_deliveries,
    test_webhook,
    redeliver,
]
