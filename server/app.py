"""The Litestar application: routes, dependencies, error shape, OpenAPI, metrics timing."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from . import logs
from .agents.endpoint import agent_socket
from .api import (
    accounts,
    agents,
    events,
    gateways,
    message_batch,
    message_cancel,
    messages,
    ops,
    optouts,
    users,
    webhooks,
)
from .api.allow import options_for
from .api.auth import provide_caller, provide_server
from .api.calls import list_calls
from .api.errors import EXCEPTION_HANDLERS
from .api.timing import timing_middleware
from .gateways.base import Registry
from .runtime import Server, open_server
from .settings import Settings
from .web import template_config, web_router

ROUTES = [
    ops.healthz,
    ops.metrics,
    ops.openapi_json,
    users.list_users,
    users.create_user,
    users.set_password,
    users.rotate_user_token,
    users.delete_user,
    agents.list_agents,
    agents.create_agent,
    agents.rotate_agent_token,
    agents.delete_agent,
    accounts.list_accounts,
    accounts.read_account,
    accounts.create_account,
    accounts.update_account,
    accounts.delete_account,
    messages.send_message,
    messages.preview_message,
    messages.read_message,
    messages.list_messages,
    message_cancel.cancel_message,
    message_batch.send_messages_batch,
    optouts.list_optouts,
    optouts.add_optout,
    optouts.remove_optout,
    gateways.account_credit,
    gateways.test_account,
    gateways.smsbrana_push,
    events.list_events,
    *webhooks.ROUTES,
    agent_socket,
    list_calls,
]


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="smsbridge",
        version="0.1.0",
        description="The CRM's SMS accounts, users and messages. Every error is "
        '{"error": code, "detail": text}.',
        # Litestar's own schema router answers every unknown path under it with an HTML 404,
        # so it stays off /api; api/ops.py serves the spec at /api/openapi.json.
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "token": SecurityScheme(type="http", scheme="bearer", description="API token")
            }
        ),
    )


WORKER_SETTINGS_ENV = "SMSBRIDGE_WORKER_SETTINGS"


def create_app(
    settings: Settings, server: Server | None = None, gateways: Registry | None = None
) -> Litestar:
    """With `server`, use it (tests open it themselves in their event loop); without, open
    one from `settings` (and `gateways`) when the app starts and close it when it stops."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if server is not None:
            yield
            return
        async with open_server(settings, gateways=gateways) as opened:
            app.state.server = opened
            yield

    paths = [path for handler in ROUTES for path in handler.paths]
    return Litestar(
        route_handlers=[options_for(paths), *ROUTES, web_router()],
        dependencies={
            "server": Provide(provide_server, sync_to_thread=False),
            "caller": Provide(provide_caller),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi_config(),
        template_config=template_config(),
        middleware=[timing_middleware],
        lifespan=[lifespan],
        state=State({"server": server} if server is not None else {}),
        debug=False,
        logging_config=None,  # logging is set up by the CLI (server/logs.py), not by Litestar
    )


def worker_app() -> Litestar:
    """The app of one `sms-server --workers N` process (uvicorn imports it by name). The
    parent has migrated and seeded the database and passes its settings in the environment."""
    settings = msgspec.json.decode(os.environ[WORKER_SETTINGS_ENV], type=Settings)
    logs.configure(settings.log_level)
    return create_app(settings)
