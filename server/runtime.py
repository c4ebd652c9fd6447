"""The running server's parts, opened at start and closed at stop. Handlers reach them
through `app.state.server`; nothing lives in module globals."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from sms.model import GatewayType

from . import keys
from .accounts.cache import AccountCache
from .agents.applier import Applier
from .agents.dispatch import Dispatcher
from .agents.gateway import AgentGateway
from .agents.hub import Hub
from .bootstrap import check_admin_token, seed
from .callers import TokenCache
from .db import migrate
from .db.engine import make_engine, make_sessionmaker
from .events.bell import Bell
from .events.feed import Pruner
from .gateways.base import Registry
from .gateways.web import WebGateways
from .login_throttle import LoginThrottle
from .messages.optout import OptOutCache
from .messages.states import StateRecorder
from .messages.writer import MessageWriter
from .metrics import Metrics
from .ratelimit import Limiter
from .routing.fallback import fallback_sender
from .routing.schedule import Scheduler
from .settings import Settings
from .webhooks.deliverer import Deliverer
from .webhooks.store import Policy

log = logging.getLogger("smsbridge.server")

ADMIN_TOKEN_ENV = "SMSBRIDGE_ADMIN_TOKEN"


@dataclass
class Server:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker
    box: keys.SecretBox
    gateways: Registry
    writer: MessageWriter
    states: StateRecorder
    metrics: Metrics
    accounts: AccountCache
    callers: TokenCache
    hub: Hub
    applier: Applier
    dispatcher: Dispatcher
    # The admin token generated at this start (None when it came from the environment or
    # the database already existed). Printed once by the CLI, never logged.
    new_admin_token: str | None = None
    # smsbrana, URL and O2: started with the server (gateways/web.py).
    web: WebGateways | None = None
    # Seals the web pages' session cookie; derived from the server key (keys.derive).
    cookies: Fernet | None = None
    # Failed web logins per client address (slows down password guessing).
    logins: LoginThrottle = field(default_factory=LoginThrottle)
    # The unauthenticated smsbrana push, per client address and per account (api/gateways.py).
    push_clients: Limiter = field(default_factory=lambda: Limiter(rate=0.5, burst=5))
    push_accounts: Limiter = field(default_factory=lambda: Limiter(rate=0.2, burst=3))
    # Rings when events commit (events/bell.py): the feed's long polls, the webhooks.
    bell: Bell = field(default_factory=Bell)
    # Sends the webhooks' deliveries (webhooks/deliverer.py).
    webhooks: Deliverer | None = None
    # Turns scheduled messages queued when their time comes (routing/schedule.py).
    scheduler: Scheduler | None = None
    # The suppression list in memory (messages/optout.py), checked on every send.
    optouts: OptOutCache | None = None


def _admin_token(given: str | None) -> str | None:
    """The admin token to seed (the caller's, else SMSBRIDGE_ADMIN_TOKEN), refused with a
    sentence when it is too short."""
    token = given if given is not None else os.environ.get(ADMIN_TOKEN_ENV)
    if token:
        check_admin_token(token)
    return token


async def _migrate_and_seed(
    settings: Settings, engine: AsyncEngine, admin_token: str | None, bell: Bell | None = None
) -> tuple[bytes, async_sessionmaker, str | None]:
    token = _admin_token(admin_token)
    raw_key = keys.load_or_create_key(settings.key_path())
    await migrate.upgrade(engine)
    sessions = make_sessionmaker(engine, bell.session_class() if bell else None)
    async with sessions.begin() as session:
        generated = await seed(session, token or None)
    return raw_key, sessions, generated


async def prepare_database(settings: Settings, *, admin_token: str | None = None) -> str | None:
    """Only migrate and seed (the parent of `--workers N`, before its workers start: they
    would race). Returns the admin token generated, if one was. Serves nothing, so it
    starts none of the background work; every serving process opens `open_server`."""
    _admin_token(admin_token)  # before anything is created
    engine = make_engine(settings.db)
    try:
        return (await _migrate_and_seed(settings, engine, admin_token))[2]
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def open_server(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    gateways: Registry | None = None,
    admin_token: str | None = None,
) -> AsyncIterator[Server]:
    """Migrate, seed, start the writer and the background work (resuming queued web
    messages, polling inboxes); yield the Server; stop it all on the way out. The shipped
    entry points and the tests open the server only through here, so they run the same
    parts. `engine` and `gateways` are for tests and the benchmark."""
    _admin_token(admin_token)  # before anything is created
    own_engine = engine is None
    engine = engine or make_engine(settings.db)
    try:
        bell = Bell()
        raw_key, sessions, generated = await _migrate_and_seed(settings, engine, admin_token, bell)
        box = keys.SecretBox(Fernet(raw_key))
        writer = MessageWriter(engine, settings.commit_batch, on_commit=bell.ring)
        hub = Hub(engine)
        registry = gateways or Registry()
        agent_gateway = AgentGateway(hub)
        for gateway_type in GatewayType:
            if gateway_type.runs_on_agent and not registry.has(gateway_type):
                registry.replace(gateway_type, agent_gateway)
        server = Server(
            settings=settings,
            engine=engine,
            sessions=sessions,
            box=box,
            gateways=registry,
            writer=writer,
            states=StateRecorder(sessions),
            metrics=Metrics(),
            accounts=AccountCache(sessions, box),
            callers=TokenCache(sessions),
            hub=hub,
            applier=Applier(sessions),
            dispatcher=Dispatcher(sessions, hub.process_id),
            new_admin_token=generated,
            bell=bell,
            cookies=Fernet(keys.derive(raw_key, "smsbridge web session")),
        )
        server.dispatcher.fallback = fallback_sender(server)
        server.applier.on_refused = server.metrics.refused
        server.dispatcher.time_zone = settings.time_zone
        await bell.start(engine)
        await writer.start()
        await hub.start()
        await server.applier.start()
        await server.dispatcher.start()
        pruner = Pruner(sessions, dt.timedelta(days=settings.event_retention_days))
        server.web = WebGateways(sessions, box, server.states, poll_interval=settings.poll_interval)
        server.optouts = OptOutCache(sessions, engine)
        server.scheduler = Scheduler(sessions, server.accounts, server.gateways, settings.time_zone)
        try:
            await server.web.start(server.gateways, engine)
            await server.scheduler.start()
            pruner.start()
            server.webhooks = Deliverer(
                sessions,
                box,
                bell,
                hub.process_id,
                timeout=settings.webhook_timeout,
                policy=Policy(
                    settings.webhook_retry_base,
                    settings.webhook_retry_max,
                    settings.webhook_retry_for,
                ),
            )
            server.webhooks.start()
            log.info("server ready", extra={"db": engine.url.render_as_string(hide_password=True)})
            yield server
        finally:
            await server.scheduler.stop()
            if server.webhooks is not None:
                await server.webhooks.stop()
            await pruner.stop()
            await server.web.close()
            await server.dispatcher.stop()
            await server.applier.stop()
            await hub.stop()
            await writer.stop()
            await bell.stop()
    finally:
        if own_engine:
            await engine.dispose()
