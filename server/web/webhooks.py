"""The webhooks pages (admins): list and create (the secret shown once), one webhook's
settings, its recent deliveries with every attempt, "send a test event" and "redeliver".
Every change goes through server/webhooks/manage.py, as the API's do."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from ..api.auth import ServerDep
from ..api.errors import forbidden
from ..api.webhooks import own_addresses
from ..events import catalogue
from ..i18n.catalogue import N_
from ..i18n.codes import said, said_error
from ..runtime import Server
from ..webhooks import manage
from ..webhooks.manage import WebhookError
from ..webhooks.schemas import WebhookIn, WebhookPatch
from .render import page
from .session import UserDep, WebUser, form_of

RECENT = 50


def _admin(user: WebUser) -> None:
    if not user.caller.is_admin:
        raise forbidden(f"user {user.caller.name!r} is not an admin: webhooks are theirs")


def _types(form: dict[str, str]) -> list[str]:
    if form.get("all_events"):
        return ["*"]
    return [t for t in catalogue.SUBSCRIBABLE if form.get(f"type_{t}")]


async def _list(server: Server, user: WebUser, status: int = 200, **context: Any) -> Template:
    async with server.sessions() as session:
        hooks = await manage.list_all(session)
    context.setdefault("new", {"url": "", "events": ["*"], "description": ""})
    context.setdefault("errors", {})
    return page(
        "webhooks.html",
        user,
        status=status,
        hooks=hooks,
        types=catalogue.TYPES,
        active="webhooks",
        **context,
    )


async def _detail(
    server: Server, user: WebUser, hook_id: int, status: int = 200, **context: Any
) -> Template:
    try:
        async with server.sessions() as session:
            hook = await manage.read(session, hook_id)
            deliveries = await manage.deliveries(session, hook_id, RECENT)
    except WebhookError as exc:
        return page(
            "error.html",
            user,
            status=exc.status,
            title=N_("Not found"),
            detail=said_error(exc.error, exc.detail),
        )
    context.setdefault("errors", {})
    return page(
        "webhook.html",
        user,
        status=status,
        hook=hook,
        deliveries=deliveries,
        types=catalogue.TYPES,
        active="webhooks",
        **context,
    )


def _kick(server: Server) -> None:
    if server.webhooks is not None:
        server.webhooks.kick()


@get("/webhooks")
async def webhooks_page(server: ServerDep, user: UserDep) -> Template:
    _admin(user)
    return await _list(server, user)


@post("/webhooks")
async def create_webhook(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any]
) -> Template:
    _admin(user)
    form = await form_of(request, user)
    new = {
        "url": form.get("url", "").strip(),
        "events": _types(form),
        "description": form.get("description", "").strip()[:500],
    }
    data = WebhookIn(url=new["url"] or " ", events=new["events"], description=new["description"])
    try:
        async with server.sessions.begin() as session:
            created = await manage.create(session, server.box, data, own_addresses(server, request))
    except WebhookError as exc:
        return await _list(
            server,
            user,
            status=exc.status,
            new=new,
            errors={"new": said_error(exc.error, exc.detail)},
        )
    _kick(server)
    return await _list(server, user, created=created)


DONE = {
    "saved": N_("Saved."),
    "test": N_("A webhook.test event is on its way; its attempts show below."),
    "redeliver": N_("The delivery goes again now, with the same webhook-id."),
}
CONFIRM = N_("tick the box to confirm")


@get("/webhooks/{hook_id:int}")
async def webhook_page(
    server: ServerDep, user: UserDep, hook_id: FromPath[int], done: FromQuery[str | None] = None
) -> Template:
    _admin(user)
    return await _detail(server, user, hook_id, done=said(DONE[done]) if done in DONE else None)


@post("/webhooks/{hook_id:int}")
async def update_webhook(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], hook_id: FromPath[int]
) -> Template | Redirect:
    _admin(user)
    form = await form_of(request, user)
    data = WebhookPatch(
        url=form.get("url", "").strip() or " ",
        events=_types(form),
        description=form.get("description", "").strip()[:500],
        active=bool(form.get("active")),
    )
    try:
        async with server.sessions.begin() as session:
            await manage.change(session, server.box, hook_id, data, own_addresses(server, request))
    except WebhookError as exc:
        return await _detail(
            server,
            user,
            hook_id,
            status=exc.status,
            errors={"edit": said_error(exc.error, exc.detail)},
        )
    _kick(server)
    return Redirect(f"/webhooks/{hook_id}", query_params={"done": "saved"}, status_code=303)


@post("/webhooks/{hook_id:int}/delete")
async def delete_webhook(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], hook_id: FromPath[int]
) -> Template | Redirect:
    _admin(user)
    form = await form_of(request, user)
    if not form.get("confirm"):
        return await _detail(server, user, hook_id, status=400, errors={"delete": said(CONFIRM)})
    async with server.sessions.begin() as session:
        await manage.remove(session, hook_id)
    return Redirect("/webhooks", status_code=303)


@post("/webhooks/{hook_id:int}/test")
async def send_test(
    server: ServerDep, user: UserDep, request: Request[Any, Any, Any], hook_id: FromPath[int]
) -> Redirect:
    _admin(user)
    await form_of(request, user)
    async with server.sessions.begin() as session:
        await manage.send_test(session, hook_id)
    _kick(server)
    return Redirect(f"/webhooks/{hook_id}", query_params={"done": "test"}, status_code=303)


@post("/webhooks/{hook_id:int}/deliveries/{delivery_id:int}/redeliver")
async def redeliver(
    server: ServerDep,
    user: UserDep,
    request: Request[Any, Any, Any],
    hook_id: FromPath[int],
    delivery_id: FromPath[int],
) -> Redirect:
    _admin(user)
    await form_of(request, user)
    async with server.sessions.begin() as session:
        await manage.redeliver(session, hook_id, delivery_id)
    _kick(server)
    return Redirect(f"/webhooks/{hook_id}", query_params={"done": "redeliver"}, status_code=303)


HANDLERS = [
    webhooks_page,
    create_webhook,
    webhook_page,
    update_webhook,
    delete_webhook,
    send_test,
    redeliver,
]
