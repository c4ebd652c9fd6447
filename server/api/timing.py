"""ASGI middleware that times every HTTP request into the latency histogram, labelled by the
route template (`/api/messages/{message_id}`), never by the raw path with its ids."""

from __future__ import annotations

import time
from typing import Any, cast

from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send


def timing_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            server: Any = getattr(scope["app"].state, "server", None)
            if server is not None:
                route = scope.get("path_template") or "unmatched"
                method = cast(HTTPScope, scope)["method"]
                server.metrics.request_latency.labels(method, route, str(status)).observe(
                    time.perf_counter() - start
                )

    return middleware
