"""The web pages (accounts, messages, agents), served by sms-server beside the REST API.
Server-rendered Jinja templates with a little htmx; nothing is fetched from the internet."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response, Router
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router

from ..api.errors import ApiError
from ..i18n.catalogue import N_
from ..i18n.codes import Said, said, said_error
from . import (
    accounts,
    agents,
    control,
    conversations,
    login,
    messages,
    preferences,
    users,
    webhooks,
)
from .calls import calls_fragment
from .render import STATIC, page, template_config
from .session import CsrfRejected, LoginRequired, provide_user

__all__ = ["template_config", "web_router"]
log = logging.getLogger("smsbridge.server.web")

# Only our own scripts and styles (htmx is vendored); no framing, so a page with a delete
# button cannot be overlaid by another site (clickjacking). Inline style attributes draw
# the signal bars.
HEADERS = [
    ResponseHeader(
        name="Content-Security-Policy",
        value="default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
    ResponseHeader(name="X-Frame-Options", value="DENY"),
    ResponseHeader(name="Referrer-Policy", value="same-origin"),
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="Cache-Control", value="no-store"),
]


REFUSED = N_("Refused")
SERVER_ERROR = N_("Server error")
FAILED = N_("The server failed; see its log.")


def _to_login(request: Request[Any, Any, Any], _: LoginRequired) -> Response[Any]:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    if request.headers.get("hx-request"):
        # htmx follows this header with a full page load (a 303 would be swapped in).
        return Response(b"", status_code=204, headers={"HX-Redirect": "/login"})
    return Redirect("/login", query_params={"next": target}, status_code=303)


def _error(status: int, title: str, detail: Said) -> Template:
    return page("error.html", None, status=status, title=title, detail=detail)


def _csrf(_: Request[Any, Any, Any], __: CsrfRejected) -> Template:
    return _error(
        403,
        N_("Form refused"),
        said(N_("The form was not from this page or has expired. Reload the page and try again.")),
    )


def _api(_: Request[Any, Any, Any], exc: ApiError) -> Template:
    titles = {403: N_("Not allowed"), 404: N_("Not found")}
    return _error(exc.status, titles.get(exc.status, REFUSED), said_error(exc.error, exc.detail))


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Template:
    if exc.status_code >= 500:
        return _error(exc.status_code, SERVER_ERROR, said(FAILED))
    refused = N_("The request was refused.")
    return _error(exc.status_code, REFUSED, Said(refused, detail=exc.detail or ""))


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Template:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _error(500, SERVER_ERROR, said(FAILED))


def web_router() -> Router:
    handlers: list[Any] = [
        login.login_page,
        login.login,
        login.logout,
        accounts.accounts_page,
        accounts.new_account,
        accounts.config_help,
        accounts.create_account,
        accounts.edit_account,
        accounts.update_account,
        accounts.make_default,
        accounts.confirm_delete,
        accounts.delete_account,
        accounts.test_form,
        accounts.send_test,
        messages.messages_page,
        messages.message_rows,
        calls_fragment,
        *control.HANDLERS,
        agents.agents_page,
        agents.agents_body,
        agents.new_token,
        agents.delete_agent,
        users.users_page,
        users.create_user,
        users.set_password,
        users.new_token,
        users.delete_user,
        preferences.settings_page,
        conversations.preview,
        conversations.conversation_page,
        conversations.conversation_thread,
        conversations.reply,
        preferences.save_settings,
        *webhooks.HANDLERS,
        create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False),
    ]
    return Router(
        path="/",
        route_handlers=handlers,
        dependencies={"user": Provide(provide_user)},
        exception_handlers={
            LoginRequired: _to_login,
            CsrfRejected: _csrf,
            ApiError: _api,
            HTTPException: _http,
            Exception: _unexpected,
        },
        response_headers=HEADERS,
        include_in_schema=False,
    )
