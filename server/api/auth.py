"""Who is calling: `Authorization: Bearer <token>` → the user and their rights.

The lookup itself, and its short cache, are in server/callers.py.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from ..callers import Caller
from ..runtime import Server
from ..tokens import hash_token
from .errors import ApiError, forbidden


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail)


def provide_server(request: Request[Any, Any, Any]) -> Server:
    return request.app.state.server


ServerDep = NamedDependency[Server]


async def provide_caller(request: Request[Any, Any, Any], server: ServerDep) -> Caller:
    # Taking `server` as a dependency (not from app.state) makes Litestar resolve the two
    # one after the other instead of spawning a task group for them on every request.
    header = request.headers.get("authorization")
    if not header:
        raise unauthorized("send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("the Authorization header must be 'Bearer <token>'")
    caller = await server.callers.lookup(hash_token(token.strip()))
    if caller is None:
        raise unauthorized("unknown token")
    return caller


def require_admin(caller: CallerDep) -> None:
    if not caller.is_admin:
        raise forbidden(f"user {caller.name!r} is not an admin")


# What handlers declare to receive the caller (see app.py's dependencies).
CallerDep = NamedDependency[Caller]
