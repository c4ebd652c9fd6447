"""Logging in to the web pages with a user name and password (set by an admin with
PUT /api/users/{name}/password), or with the user's API token; and logging out, of this
session or of every session of the user ("everywhere")."""

from __future__ import annotations

import math
import time
from functools import cache
from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from ..api.auth import ServerDep
from ..db.tables import User
from ..i18n.catalogue import N_
from ..i18n.codes import said
from ..passwords import hash_password, verify_password
from ..runtime import Server
from ..tokens import hash_token
from .render import page
from .session import (
    CsrfRejected,
    check_csrf,
    cookie,
    end_sessions,
    expired_cookie,
    new_session,
    open_session,
    read,
    user_by_id,
)

FAILED = N_("Unknown user or wrong password (or token).")
THROTTLED = N_("Too many failed logins from this address: try again in %(seconds)s s.")


@cache
def _dummy_hash() -> str:
    # Checked against when the user does not exist, so both failures take as long.
    return hash_password("not-a-password-of-anyone")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def _by_password(server: Server, name: str, password: str) -> User | None:
    async with server.sessions() as session:
        user = (await session.execute(select(User).where(User.name == name))).scalar()
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    return user if verify_password(user.password_hash, password) else None


async def _by_token(server: Server, token: str) -> User | None:
    caller = await server.callers.lookup(hash_token(token))
    return None if caller is None else await user_by_id(server, caller.id)


@get("/login")
async def login_page(
    server: ServerDep, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
) -> Template | Redirect:
    found = read(server, request)
    if found is not None and found.uid is not None:
        return Redirect(_safe_next(next), status_code=303)
    fresh = new_session()
    return page(
        "login.html",
        None,
        csrf=fresh.csrf,
        cookies=[cookie(server, request, fresh)],
        next=_safe_next(next),
        name="",
        error=None,
    )


@post("/login")
async def login(server: ServerDep, request: Request[Any, Any, Any]) -> Template | Redirect:
    found = read(server, request)
    data = await request.form()
    form = {key: str(value) for key, value in data.items()}
    if found is None:
        raise CsrfRejected()  # no cookie from our login page: not a form we served
    check_csrf(found.csrf, request, form)
    name, password = form.get("name", "").strip(), form.get("password", "")
    token = form.get("token", "").strip()
    target = _safe_next(form.get("next"))
    who = request.client.host if request.client else "?"
    wait = server.logins.wait(who, time.monotonic())
    if wait > 0:
        # Not even checked: a guess made during the wait tells nothing.
        return page(
            "login.html",
            None,
            csrf=found.csrf,
            status=429,
            next=target,
            name=name,
            error=said(THROTTLED, seconds=math.ceil(wait)),
        )
    user: User | None = None
    if token:
        user = await _by_token(server, token)
    elif name and password:
        user = await _by_password(server, name, password)
    if user is None:
        server.logins.failed(who, time.monotonic())
        return page(
            "login.html",
            None,
            csrf=found.csrf,
            status=401,
            next=target,
            name=name,
            error=said(FAILED),
        )
    server.logins.succeeded(who)
    # A new session (and CSRF token) on login: nothing set before it carries over.
    session = await open_session(server, user)
    return Redirect(target, cookies=[cookie(server, request, session)], status_code=303)


@post("/logout")
async def logout(server: ServerDep, request: Request[Any, Any, Any]) -> Redirect:
    found = read(server, request)
    data = await request.form()
    if found is not None:
        form = {k: str(v) for k, v in data.items()}
        check_csrf(found.csrf, request, form)
        # Ended on the server too: a copy of the cookie is worth nothing now.
        await end_sessions(server, found, everywhere=bool(form.get("everywhere")))
    return Redirect("/login", cookies=[expired_cookie()], status_code=303)
