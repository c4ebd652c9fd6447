"""The web pages' session: an encrypted, authenticated cookie (Fernet under a key derived
from the server key), HttpOnly and SameSite=Lax, holding the user's id and a CSRF token.

A logged-in session also has a row in `web_sessions` (keyed by a hash of the id the
cookie carries), in the shared database so that any replica can check it: logging out
deletes it, "log out everywhere" deletes every one of the user's, and a cookie without
its row is no session. Every form carries the CSRF token (htmx sends it as a header); a
POST without the session's token is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

import msgspec
from cryptography.fernet import Fernet, InvalidToken
from litestar import Request
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from sqlalchemy import delete, select

from ..callers import Caller, parse_rights
from ..db.tables import User
from ..db.tables import WebSession as SessionRow
from ..runtime import Server

COOKIE = "smsbridge_session"
MAX_AGE = 12 * 3600  # a working day; then log in again
CSRF_FIELD = "_csrf"
CSRF_HEADER = "x-csrf-token"


class WebSession(msgspec.Struct, frozen=True):
    csrf: str
    uid: int | None = None  # None: not logged in yet (the login form's own CSRF token)
    # A digest of the user's credentials at login: a new password (or token) ends every
    # session opened with the old one.
    stamp: str = ""
    # The server-side session this cookie belongs to (its row in web_sessions).
    sid: str = ""


class LoginRequired(Exception):
    """No valid session: the page answers with a redirect to /login."""


class CsrfRejected(Exception):
    """A form came without this session's CSRF token."""


def new_session(user: User | None = None) -> WebSession:
    if user is None:
        return WebSession(csrf=secrets.token_urlsafe(24))
    return WebSession(
        csrf=secrets.token_urlsafe(24),
        uid=user.id,
        stamp=stamp_of(user),
        sid=secrets.token_urlsafe(24),
    )


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


async def open_session(server: Server, user: User) -> WebSession:
    """A new logged-in session, recorded on the server (expired ones are pruned here)."""
    session = new_session(user)
    now = dt.datetime.now(dt.UTC)
    async with server.sessions.begin() as db:
        await db.execute(delete(SessionRow).where(SessionRow.expires_at < now))
        db.add(
            SessionRow(
                id_hash=_sid_hash(session.sid),
                user_id=user.id,
                expires_at=now + dt.timedelta(seconds=MAX_AGE),
            )
        )
    return session


async def end_sessions(server: Server, found: WebSession, everywhere: bool = False) -> None:
    """End this session, or (`everywhere`) every session of its user."""
    if found.uid is None:
        return
    query = delete(SessionRow).where(SessionRow.user_id == found.uid)
    if not everywhere:
        query = query.where(SessionRow.id_hash == _sid_hash(found.sid))
    async with server.sessions.begin() as db:
        await db.execute(query)


def stamp_of(user: User) -> str:
    material = f"{user.token_hash}\x00{user.password_hash or ''}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def _fernet(server: Server) -> Fernet:
    if server.cookies is None:
        raise RuntimeError("the server was opened without a session key")
    return server.cookies


def read(server: Server, request: Request[Any, Any, Any]) -> WebSession | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = _fernet(server).decrypt(raw.encode(), ttl=MAX_AGE)
        return msgspec.json.decode(data, type=WebSession)
    except (InvalidToken, msgspec.ValidationError, msgspec.DecodeError):
        return None  # expired, forged, or from another server key: start over


def cookie(server: Server, request: Request[Any, Any, Any], session: WebSession) -> Cookie:
    value = _fernet(server).encrypt(msgspec.json.encode(session)).decode()
    return Cookie(
        key=COOKIE,
        value=value,
        max_age=MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def expired_cookie() -> Cookie:
    return Cookie(key=COOKIE, value="", max_age=0, httponly=True, samesite="lax", path="/")


class WebUser(msgspec.Struct, frozen=True):
    """Who is looking at a page, and the CSRF token their forms must carry."""

    caller: Caller
    csrf: str
    # The user's own choices for the pages (None: the browser's, else the server's).
    language: str | None = None
    time_zone: str | None = None


async def user_by_id(server: Server, uid: int) -> User | None:
    async with server.sessions() as session:
        return (await session.execute(select(User).where(User.id == uid))).scalar()


def caller_of(user: User) -> Caller:
    return Caller(user.id, user.name, parse_rights(user.rights))


async def provide_user(request: Request[Any, Any, Any], server: NamedDependency[Server]) -> WebUser:
    found = read(server, request)
    if found is None or found.uid is None:
        raise LoginRequired()
    async with server.sessions() as db:
        user = (
            await db.execute(
                select(User)
                .join(SessionRow, SessionRow.user_id == User.id)
                .where(
                    User.id == found.uid,
                    SessionRow.id_hash == _sid_hash(found.sid),
                    SessionRow.expires_at > dt.datetime.now(dt.UTC),
                )
            )
        ).scalar()
    if user is None or not hmac.compare_digest(found.stamp, stamp_of(user)):
        raise LoginRequired()  # logged out, ended everywhere, expired, or credentials changed
    return WebUser(caller_of(user), found.csrf, user.language, user.time_zone)


def check_csrf(expected: str, request: Request[Any, Any, Any], form: dict[str, Any]) -> None:
    given = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not (isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())):
        raise CsrfRejected()


async def form_of(request: Request[Any, Any, Any], user: WebUser) -> dict[str, str]:
    """The POSTed form as a dict (last value wins), after its CSRF token is checked."""
    data = await request.form()
    form = {key: str(value) for key, value in data.items()}
    check_csrf(user.csrf, request, form)
    return form


# What page handlers declare to receive the logged-in user (see web_router's dependencies).
UserDep = NamedDependency[WebUser]
