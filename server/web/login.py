"""Logging in to the web pages with a user name and password (set by an admin with
PUT /api/users/{name}/password), or with the user's API token; and logging out."""

from __future__ import annotations

from functools import cache
from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from ..api.auth import ServerDep
from ..callers import Caller, parse_rights
from ..db.tables import User
from ..passwords import hash_password, verify_password
from ..tokens import hash_token
from .render import page
from .session import (
    CsrfRejected,
    WebUser,
    check_csrf,
    cookie,
    expired_cookie,
    new_session,
    read,
)

FAILED = "Unknown user or wrong password (or token)."


@cache
def _dummy_hash() -> str:
    # Checked against when the user does not exist, so both failures take as long.
    return hash_password("not-a-password-of-anyone")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def _by_password(server: ServerDep, name: str, password: str) -> Caller | None:
    async with server.sessions() as session:
        user = (await session.execute(select(User).where(User.name == name))).scalar()
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    return Caller(user.id, user.name, parse_rights(user.rights))


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
        WebUser(_nobody(), fresh.csrf),
        cookies=[cookie(server, request, fresh)],
        next=_safe_next(next),
        name="",
        error=None,
        anonymous=True,
    )


def _nobody() -> Caller:
    return Caller(0, "", frozenset())


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
    caller: Caller | None = None
    if token:
        caller = await server.callers.lookup(hash_token(token))
    elif name and password:
        caller = await _by_password(server, name, password)
    target = _safe_next(form.get("next"))
    if caller is None:
        return page(
            "login.html",
            WebUser(_nobody(), found.csrf),
            status=401,
            next=target,
            name=name,
            error=FAILED,
            anonymous=True,
        )
    # A new session (and CSRF token) on login: nothing set before it carries over.
    session = new_session(caller.id)
    return Redirect(target, cookies=[cookie(server, request, session)], status_code=303)


@post("/logout")
async def logout(server: ServerDep, request: Request[Any, Any, Any]) -> Redirect:
    found = read(server, request)
    data = await request.form()
    if found is not None:
        check_csrf(found.csrf, request, {k: str(v) for k, v in data.items()})
    return Redirect("/login", cookies=[expired_cookie()], status_code=303)
