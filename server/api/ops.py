"""Operations: /healthz for load balancers, /metrics for Prometheus. /healthz needs no
token. /metrics names agents, lines and accounts: with a `metrics_token` setting it asks
for `Authorization: Bearer <metrics_token>`; without one, only loopback clients (a
Prometheus on this machine, or a proxy here that forwards the client's address) get it."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from sqlalchemy import func, select, text

from sms.model import Direction, MessageState

from ..db.tables import Agent, Message
from ..metrics import CONTENT_TYPE
from ..routing.load import line_loads
from ..webhooks.schemas import WebhookIn, WebhookPatch
from ..webhooks.store import fill_metrics
from .auth import ServerDep, unauthorized
from .errors import ApiError, forbidden
from .schemas import REQUEST_BODIES, Health


@get(
    "/healthz",
    summary="Liveness: the database answers and the message writer runs",
    responses={503: ResponseSpec(Health, description="Not able to store messages now")},
)
async def healthz(server: ServerDep) -> Response[Health]:
    writer = "ok" if server.writer.running else "stopped"
    try:
        async with server.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        database = "ok"
    except Exception as exc:
        database = type(exc).__name__
    ok = database == writer == "ok"
    return Response(
        Health("ok" if ok else "unavailable", database, writer), status_code=200 if ok else 503
    )


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def metrics_refusal(request: Request[Any, Any, Any], metrics_token: str | None) -> ApiError | None:
    if metrics_token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), metrics_token.encode()
        ):
            return None
        return unauthorized("send 'Authorization: Bearer <metrics_token>' (server.toml)")
    host = request.client.host if request.client else None
    if _loopback(host):
        return None
    return forbidden(
        "/metrics is served to loopback clients only; set metrics_token in server.toml "
        "to let a Prometheus elsewhere read it"
    )


@get("/metrics", summary="Prometheus metrics", media_type=CONTENT_TYPE)
async def metrics(server: ServerDep, request: Request[Any, Any, Any]) -> Response[bytes]:
    refusal = metrics_refusal(request, server.settings.metrics_token)
    if refusal is not None:
        raise refusal
    m = server.metrics
    async with server.sessions() as session:
        counts = (
            await session.execute(
                select(Message.direction, Message.state, Message.gateway, func.count()).group_by(
                    Message.direction, Message.state, Message.gateway
                )
            )
        ).all()
        loads = await line_loads(session)
        await m.modem.fill(session)
        # From the database, not this process's count: with several workers or replicas
        # each holds only some of the WebSockets.
        connected = (
            await session.execute(
                select(func.count()).select_from(Agent).where(Agent.connection.is_not(None))
            )
        ).scalar_one()
        results = server.webhooks.results if server.webhooks is not None else {}
        await fill_metrics(session, m, results)
    m.messages.clear()
    m.queue_depth.clear()
    for direction, state, gateway, n in counts:
        m.messages.labels(direction, state, gateway).set(n)
        if direction == Direction.OUT.value and state == MessageState.QUEUED.value:
            m.queue_depth.labels(gateway).set(n)
    m.agents_connected.set(connected)
    m.line_segments.clear()
    m.line_limit.clear()
    m.line_taking_jobs.clear()
    for load in loads:
        m.line_segments.labels(load.agent, load.line, "minute").set(load.segments_minute)
        m.line_segments.labels(load.agent, load.line, "day").set(load.segments_day)
        if load.per_minute is not None:
            m.line_limit.labels(load.agent, load.line, "minute").set(load.per_minute)
        if load.per_day is not None:
            m.line_limit.labels(load.agent, load.line, "day").set(load.per_day)
        m.line_taking_jobs.labels(load.agent, load.line).set(1 if load.taking_jobs else 0)
    m.commit_pending.set(server.writer.pending)
    m.commit_batches.set(server.writer.batches)
    return Response(m.render(), media_type=CONTENT_TYPE)


@get("/api/openapi.json", include_in_schema=False, summary="This API's OpenAPI document")
async def openapi_json(request: Request[Any, Any, Any]) -> dict[str, Any]:
    spec = request.app.openapi_schema.to_schema()
    # Request bodies refuse unknown fields (a typo like "defualt" must not pass silently);
    # Litestar does not carry msgspec's forbid_unknown_fields into the schema, so say it here.
    schemas = spec.get("components", {}).get("schemas", {})
    for body in (*REQUEST_BODIES, WebhookIn, WebhookPatch):
        if body.__name__ in schemas:
            schemas[body.__name__]["additionalProperties"] = False
    return spec
