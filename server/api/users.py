"""GET|POST /api/users: admins list users and create them; the token is shown once.
PUT /api/users/{name}/password: an admin sets the password a user logs in to the web pages with."""

from __future__ import annotations

from litestar import delete, get, post, put
from litestar.params import FromPath, JSONBody
from sqlalchemy import delete as sql_delete
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..callers import parse_rights
from ..db.tables import Account, User
from ..passwords import WeakPassword, hash_password
from ..runtime import Server
from ..tokens import USER_PREFIX, hash_token, new_token
from .auth import Caller, CallerDep, ServerDep, require_admin
from .errors import AUTH, conflict, documented, not_found, unprocessable
from .schemas import PasswordIn, Right, UserCreated, UserIn, UserOut


def _rights(rights: list[Right]) -> list[Right]:
    return sorted(set(rights))


@get("/api/users", summary="List users (admin)", security=AUTH, responses=documented(401, 403))
async def list_users(server: ServerDep, caller: CallerDep) -> list[UserOut]:
    return await users_of(server, caller)


async def users_of(server: Server, caller: Caller) -> list[UserOut]:
    """Every user (admins only), for the API and the users page."""
    require_admin(caller)
    async with server.sessions() as session:
        users = (await session.execute(select(User).order_by(User.name))).scalars().all()
    return [
        UserOut(u.name, sorted(parse_rights(u.rights)), u.password_hash is not None) for u in users
    ]


@post(
    "/api/users",
    status_code=201,
    summary="Create a user (admin); the token is shown once",
    security=AUTH,
    responses=documented(400, 401, 403, 409),
)
async def create_user(server: ServerDep, caller: CallerDep, data: JSONBody[UserIn]) -> UserCreated:
    return await create(server, caller, data)


async def create(server: Server, caller: Caller, data: UserIn) -> UserCreated:
    require_admin(caller)
    token = new_token(USER_PREFIX)
    rights = _rights(data.rights)
    try:
        async with server.sessions.begin() as session:
            session.add(User(name=data.name, rights=",".join(rights), token_hash=hash_token(token)))
    except IntegrityError:
        raise conflict("name_taken", f"a user named {data.name!r} already exists") from None
    return UserCreated(data.name, rights, token)


@put(
    "/api/users/{name:str}/password",
    status_code=204,
    summary="Set a user's password for the web pages (admin)",
    security=AUTH,
    responses=documented(400, 401, 403, 404, 422),
)
async def set_password(
    server: ServerDep, caller: CallerDep, name: FromPath[str], data: JSONBody[PasswordIn]
) -> None:
    await change_password(server, caller, name, data.password)


async def change_password(server: Server, caller: Caller, name: str, password: str) -> None:
    require_admin(caller)
    try:
        hashed = hash_password(password)
    except WeakPassword as exc:
        raise unprocessable("weak_password", str(exc)) from None
    async with server.sessions.begin() as session:
        done = await session.execute(
            update(User).where(User.name == name).values(password_hash=hashed)
        )
        if done.rowcount == 0:
            raise not_found(f"user {name!r}")


@post(
    "/api/users/{name:str}/token",
    status_code=200,
    summary="Give a user a new API token (admin); the old one and its sessions end at once",
    security=AUTH,
    responses=documented(401, 403, 404),
)
async def rotate_user_token(
    server: ServerDep, caller: CallerDep, name: FromPath[str]
) -> UserCreated:
    return await rotate_token(server, caller, name)


async def rotate_token(server: Server, caller: Caller, name: str) -> UserCreated:
    require_admin(caller)
    token = new_token(USER_PREFIX)
    async with server.sessions.begin() as session:
        user = (await session.execute(select(User).where(User.name == name))).scalar()
        if user is None:
            raise not_found(f"user {name!r}")
        user.token_hash = hash_token(token)  # also ends web sessions (their stamp)
        rights = sorted(parse_rights(user.rights))
    # This process forgets the old token now; other workers within their cache's seconds.
    server.callers.clear()
    return UserCreated(name, rights, token)


@delete(
    "/api/users/{name:str}",
    status_code=204,
    summary="Remove a user (admin): their token and sessions stop",
    security=AUTH,
    responses=documented(401, 403, 404, 409),
)
async def delete_user(server: ServerDep, caller: CallerDep, name: FromPath[str]) -> None:
    await remove(server, caller, name)


async def remove(server: Server, caller: Caller, name: str) -> None:
    require_admin(caller)
    if name == caller.name:
        raise conflict("is_you", "you cannot remove yourself; another admin can")
    async with server.sessions.begin() as session:
        user = (await session.execute(select(User).where(User.name == name))).scalar()
        if user is None:
            raise not_found(f"user {name!r}")
        owned = (
            await session.execute(
                select(func.count()).select_from(Account).where(Account.owner_id == user.id)
            )
        ).scalar_one()
        if owned:
            # Their accounts would lose their owner, and an account without one is everyone's.
            raise conflict(
                "owns_accounts",
                f"user {name!r} owns {owned} account(s): give them another owner or delete "
                "them first",
            )
        await session.execute(sql_delete(User).where(User.id == user.id))
    server.callers.clear()
