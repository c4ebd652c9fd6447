"""Who is calling: `Authorization: Bearer <token>` → the user and their rights.

A verified token is cached for a few seconds per server: under load every request would
otherwise pay a lookup before it does anything useful.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from litestar import Request
from litestar.di import NamedDependency
from sqlalchemy import select

from ..db.tables import User
from ..runtime import Server
from ..tokens import hash_token
from .errors import ApiError, forbidden
from .schemas import Right

CACHE_SECONDS = 5.0
CACHE_MAX = 10_000


class Caller(msgspec.Struct, frozen=True):
    id: int
    name: str
    rights: frozenset[Right]

    @property
    def is_admin(self) -> bool:
        return Right.ADMIN in self.rights

    @property
    def can_send(self) -> bool:
        return Right.SEND in self.rights or self.is_admin

    @property
    def can_read(self) -> bool:
        return Right.READ in self.rights or self.is_admin


def parse_rights(stored: str) -> frozenset[Right]:
    return frozenset(Right(r) for r in stored.split(",") if r)


def unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail)


def provide_server(request: Request[Any, Any, Any]) -> Server:
    return request.app.state.server


async def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    server: Server = request.app.state.server
    header = request.headers.get("authorization")
    if not header:
        raise unauthorized("send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("the Authorization header must be 'Bearer <token>'")
    digest = hash_token(token.strip())
    now = time.monotonic()
    hit = server.auth_cache.get(digest)
    if hit is not None and hit[0] > now:
        return hit[1]  # type: ignore[return-value]
    async with server.sessions() as session:
        user = (await session.execute(select(User).where(User.token_hash == digest))).scalar()
    if user is None:
        raise unauthorized("unknown token")
    caller = Caller(user.id, user.name, parse_rights(user.rights))
    if len(server.auth_cache) >= CACHE_MAX:
        server.auth_cache.clear()
    server.auth_cache[digest] = (now + CACHE_SECONDS, caller)
    return caller


def require_admin(caller: CallerDep) -> None:
    if not caller.is_admin:
        raise forbidden(f"user {caller.name!r} is not an admin")


# What handlers declare to receive the server and the caller (see app.py's dependencies).
ServerDep = NamedDependency[Server]
CallerDep = NamedDependency[Caller]
