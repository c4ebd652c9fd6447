"""GET|POST /api/users: admins list users and create them; the token is shown once."""

from __future__ import annotations

from litestar import get, post
from litestar.params import JSONBody
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..callers import parse_rights
from ..db.tables import User
from ..tokens import USER_PREFIX, hash_token, new_token
from .auth import CallerDep, ServerDep, require_admin
from .errors import AUTH, conflict, documented
from .schemas import Right, UserCreated, UserIn, UserOut


def _rights(rights: list[Right]) -> list[Right]:
    return sorted(set(rights))


@get("/api/users", summary="List users (admin)", security=AUTH, responses=documented(401, 403))
async def list_users(server: ServerDep, caller: CallerDep) -> list[UserOut]:
    require_admin(caller)
    async with server.sessions() as session:
        users = (await session.execute(select(User).order_by(User.name))).scalars().all()
    return [UserOut(u.name, sorted(parse_rights(u.rights))) for u in users]


@post(
    "/api/users",
    status_code=201,
    summary="Create a user (admin); the token is shown once",
    security=AUTH,
    responses=documented(400, 401, 403, 409),
)
async def create_user(server: ServerDep, caller: CallerDep, data: JSONBody[UserIn]) -> UserCreated:
    require_admin(caller)
    token = new_token(USER_PREFIX)
    rights = _rights(data.rights)
    try:
        async with server.sessions.begin() as session:
            session.add(User(name=data.name, rights=",".join(rights), token_hash=hash_token(token)))
    except IntegrityError:
        raise conflict("name_taken", f"a user named {data.name!r} already exists") from None
    return UserCreated(data.name, rights, token)
