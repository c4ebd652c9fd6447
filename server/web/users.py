"""The users page (admins): who may use smsbridge, with which rights, and whether they
have a password for these pages; create a user (the token is shown once) and set a
password. Every change goes through the API's own functions (api/users.py)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from ..api import users as api_users
from ..api.auth import ServerDep
from ..api.errors import ApiError
from ..api.schemas import UserIn
from ..i18n.catalogue import N_
from ..i18n.codes import said, said_error
from ..runtime import Server
from .render import page
from .session import UserDep, WebUser, form_of

RIGHTS = ("admin", "send", "read")
DONE = {
    "password": N_("The password of %(name)s is set; older sessions of %(name)s have ended."),
    "removed": N_("User %(name)s is removed; their token and sessions no longer work."),
}
DIFFER = N_("the two passwords differ")
BAD_NAME = N_(
    "a name of letters, digits and . _ @ - (at most 100), starting with a letter or digit"
)


async def _page(server: Server, user: WebUser, *, status: int = 200, **context: Any) -> Template:
    users = await api_users.users_of(server, user.caller)
    context.setdefault("new", {"name": "", "rights": ["send", "read"]})
    context.setdefault("errors", {})
    return page(
        "users.html", user, status=status, users=users, rights=RIGHTS, active="users", **context
    )


@get("/users")
async def users_page(
    server: ServerDep,
    user: UserDep,
    done: FromQuery[str | None] = None,
    name: FromQuery[str | None] = None,
) -> Template:
    message = said(DONE[done], name=name) if done in DONE and name else None
    return await _page(server, user, done=message)


@post("/users")
async def create_user(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any]
) -> Template:
    form = await form_of(request, user)
    name = form.get("name", "").strip()
    rights = [r for r in RIGHTS if form.get(f"right_{r}")]
    new = {"name": name, "rights": rights}
    try:
        data = msgspec.convert({"name": name, "rights": rights}, UserIn)
    except msgspec.ValidationError:
        return await _page(server, user, status=400, new=new, errors={"name": said(BAD_NAME)})
    try:
        created = await api_users.create(server, user.caller, data)
    except ApiError as exc:
        errors = {"name": said_error(exc.error, exc.detail)}
        return await _page(server, user, status=exc.status, new=new, errors=errors)
    # The token is shown here once; it is stored only as a hash.
    return await _page(server, user, created=created)


@post("/users/{name:str}/password")
async def set_password(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], name: FromPath[str]
) -> Template | Redirect:
    form = await form_of(request, user)
    password, again = form.get("password", ""), form.get("again", "")
    if password != again:
        return await _page(server, user, status=400, errors={f"password:{name}": said(DIFFER)})
    try:
        await api_users.change_password(server, user.caller, name, password)
    except ApiError as exc:
        if exc.status == 403:
            raise
        errors = {f"password:{name}": said_error(exc.error, exc.detail)}
        return await _page(server, user, status=exc.status, errors=errors)
    return Redirect("/users", query_params={"done": "password", "name": name}, status_code=303)


@post("/users/{name:str}/token")
async def new_token(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], name: FromPath[str]
) -> Template:
    await form_of(request, user)
    rotated = await api_users.rotate_token(server, user.caller, name)
    return await _page(server, user, rotated=rotated)


@post("/users/{name:str}/delete")
async def delete_user(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], name: FromPath[str]
) -> Template | Redirect:
    await form_of(request, user)
    try:
        await api_users.remove(server, user.caller, name)
    except ApiError as exc:
        if exc.status != 409:
            raise
        errors = {f"delete:{name}": said_error(exc.error, exc.detail)}
        return await _page(server, user, status=409, errors=errors)
    return Redirect("/users", query_params={"done": "removed", "name": name}, status_code=303)
