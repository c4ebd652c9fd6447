"""The running server's parts, opened at start and closed at stop. Handlers reach them
through `app.state.server`; nothing lives in module globals."""

from __future__ import annotations

import contextlib
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
from .bootstrap import seed
from .callers import TokenCache
from .db import migrate
from .db.engine import make_engine, make_sessionmaker
from .gateways.base import Registry
from .gateways.web import WebGateways
from .login_throttle import LoginThrottle
from .messages.optout import OptOutCache
from .messages.states import StateRecorder
from .messages.writer import MessageWriter
from .metrics import Metrics
from .routing.fallback import fallback_sender
from .routing.schedule import Scheduler
from .settings import Settings

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
    # Turns scheduled messages queued when their time comes (routing/schedule.py).
    scheduler: Scheduler | None = None
    # The suppression list in memory (messages/optout.py), checked on every send.
    optouts: OptOutCache | None = None


@contextlib.asynccontextmanager
async def open_server(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    gateways: Registry | None = None,
    admin_token: str | None = None,
    background: bool = True,
) -> AsyncIterator[Server]:
    """Migrate, seed, start the writer; yield the Server; stop it all on the way out.
    `engine` and `gateways` are for tests and the benchmark. `background=False` (a start
    that only migrates) leaves queued messages and inbox polling to the next start."""
    own_engine = engine is None
    engine = engine or make_engine(settings.db)
    try:
        raw_key = keys.load_or_create_key(settings.key_path())
        box = keys.SecretBox(Fernet(raw_key))
        await migrate.upgrade(engine)
        sessions = make_sessionmaker(engine)
        token = admin_token if admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV)
        async with sessions.begin() as session:
            generated = await seed(session, token or None)
        writer = MessageWriter(engine, settings.commit_batch)
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
            cookies=Fernet(keys.derive(raw_key, "smsbridge web session")),
        )
        server.dispatcher.fallback = fallback_sender(server)
        server.dispatcher.time_zone = settings.time_zone
        await writer.start()
        await hub.start()
        await server.applier.start()
        await server.dispatcher.start()
        server.web = WebGateways(sessions, box, server.states)
        server.optouts = OptOutCache(sessions, engine)
        server.scheduler = Scheduler(sessions, server.accounts, server.gateways, settings.time_zone)
        try:
            await server.web.start(server.gateways, engine, background=background)
            if background:
                await server.scheduler.start()
            log.info("server ready", extra={"db": engine.url.render_as_string(hide_password=True)})
            yield server
        finally:
            await server.scheduler.stop()
            await server.web.close()
            await server.dispatcher.stop()
            await server.applier.stop()
            await hub.stop()
            await writer.stop()
    finally:
        if own_engine:
            await engine.dispose()
