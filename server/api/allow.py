"""OPTIONS for every path, answering `Allow` with all of the path's methods.

Litestar builds its automatic OPTIONS handler with the first handler registered on a path
and never updates it, so `/api/agents` (GET and POST in two functions) would say
`Allow: GET, OPTIONS`. Registered first, this handler takes that place and reads the
methods from the finished app.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from litestar import HttpMethod, Request, Response, route
from litestar.handlers import HTTPRouteHandler

_TYPED = re.compile(r"\{(\w+):\w+\}")  # "{account_id:int}" → "{account_id}"


def options_for(paths: Iterable[str]) -> HTTPRouteHandler:
    @route(sorted(set(paths)), http_method=[HttpMethod.OPTIONS], include_in_schema=False)
    async def allow(request: Request[Any, Any, Any]) -> Response[None]:
        template = request.scope.get("path_template", "")
        methods = {
            method
            for path, handlers in request.app.route_handler_method_map.items()
            if _TYPED.sub(r"{\1}", path) == template
            for method in handlers
        }
        return Response(None, status_code=204, headers={"Allow": ", ".join(sorted(methods))})

    return allow
