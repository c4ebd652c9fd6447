"""The settings page: the language and time zone of the pages for oneself, and (admins)
for any user. Empty means "not chosen": the browser's language, else the server's
default_language; the server's time_zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select, update

from ..api.auth import ServerDep
from ..api.errors import forbidden, not_found
from ..db.tables import User
from ..i18n import choose
from ..i18n.catalogue import LANGUAGES, N_
from ..i18n.codes import Said, said
from ..runtime import Server
from .render import page
from .session import UserDep, WebUser, form_of

# Each language in its own name, as a person looking for theirs would read it.
LANGUAGE_NAMES = {"cs": "čeština", "en": "English"}
SAVED = N_("The language and time zone of %(name)s are saved.")


async def _target(server: Server, user: WebUser, name: str | None) -> User:
    wanted = name or user.caller.name
    if wanted != user.caller.name and not user.caller.is_admin:
        raise forbidden(f"user {user.caller.name!r} is not an admin: only their own settings")
    async with server.sessions() as session:
        found = (await session.execute(select(User).where(User.name == wanted))).scalar()
    if found is None:
        raise not_found(f"user {wanted!r}")
    return found


def _page(
    server: Server, user: WebUser, target: User, *, status: int = 200, **context: Any
) -> Template:
    return page(
        "settings.html",
        user,
        status=status,
        active="settings",
        target=target.name,
        own=target.name == user.caller.name,
        values={"language": target.language or "", "time_zone": target.time_zone or ""},
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        zones=choose.zones(),
        default_language=LANGUAGE_NAMES[server.settings.default_language],
        default_zone=server.settings.time_zone,
        now=dt.datetime.now(dt.UTC),
        **context,
    )


@get("/settings")
async def settings_page(
    server: ServerDep,
    user: UserDep,
    name: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    target = await _target(server, user, name)
    notice = said(SAVED, name=target.name) if done else None
    return _page(server, user, target, notice=notice)


@post("/settings")
async def save_settings(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any]
) -> Template | Redirect:
    form = await form_of(request, user)
    target = await _target(server, user, form.get("name") or None)
    language = form.get("language", "").strip()
    zone = form.get("time_zone", "").strip()
    errors: dict[str, Said] = {}
    if language and language not in LANGUAGES:
        errors["language"] = said(N_("choose one of the languages offered"))
    if zone and not choose.is_zone(zone):
        errors["time_zone"] = said(N_("%(zone)s is not a known time zone"), zone=zone)
    if errors:
        return _page(server, user, target, status=422, errors=errors)
    async with server.sessions() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.id == target.id)
            .values(language=language or None, time_zone=zone or None)
        )
    query = {"name": target.name, "done": "1"}
    return Redirect("/settings", query_params=query, status_code=303)
