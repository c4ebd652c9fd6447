"""`sms-server`: runs the central side (REST API, account store, message store)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import msgspec
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bridge.protocol import MAX_FRAME_BYTES

from . import logs
from .bootstrap import WeakAdminToken
from .db.engine import DatabaseURLError, async_url
from .keys import ServerKeyError
from .runtime import open_server, prepare_database
from .settings import DEFAULT_DB, Settings, SettingsError, build, load_file


class _Uvicorn(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, which kills the process
    before our own cleanup (writer, engine) runs. Here a signal only asks uvicorn to stop;
    `serve` then returns normally and `sms-server` exits 0."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: object) -> None:
        self._on_exit()  # end the long polls first: uvicorn waits for open requests
        super().handle_exit(sig, frame)  # type: ignore[arg-type]

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sms-server",
        description="smsbridge central server: SMS accounts, users, messages and the REST API.",
    )
    parser.add_argument(
        "--db", help=f"SQLAlchemy database URL (default {DEFAULT_DB}, PostgreSQL for production)"
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8765)")
    parser.add_argument("--config", type=Path, help="TOML file with the same settings")
    parser.add_argument(
        "--key-file", dest="key_file", help="server key for account secrets (created if missing)"
    )
    parser.add_argument("--log-level", dest="log_level", help="debug, info, warning, error")
    parser.add_argument(
        "--workers",
        type=int,
        help="server processes (default 1); each caches accounts and tokens for a few seconds",
    )
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    file_values = load_file(args.config) if args.config else {}
    names = ("db", "host", "port", "key_file", "log_level", "workers")
    overrides = {k: getattr(args, k) for k in names}
    settings = build(file_values, overrides)
    async_url(settings.db)  # fail now, with a clear message, on an unusable URL
    return settings


def print_admin_token(token: str | None) -> None:
    if token:
        # Printed, not logged: the one time anyone sees it.
        print(
            f"sms-server: created user 'admin' with token {token}\n"
            "sms-server: keep it now, it is not shown again",
            file=sys.stderr,
            flush=True,
        )


async def serve(settings: Settings) -> None:
    # Imported here so `sms-server --help` stays fast.
    from .app import create_app

    # The same open_server() the workers' lifespan and the tests use: the web gateways'
    # background work (resume queued messages, poll inboxes) runs in this process too.
    async with open_server(settings) as server:
        print_admin_token(server.new_admin_token)
        app = create_app(settings, server)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_config=None,  # our JSON logging, set up in main()
            access_log=False,
            lifespan="on",
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
            ws_max_size=MAX_FRAME_BYTES,  # a bigger frame is refused before it is read whole
        )
        await _Uvicorn(config, server.bell.close).serve()


async def prepare(settings: Settings) -> None:
    """Migrate and seed once, in the parent, before the workers start (they would race)."""
    print_admin_token(await prepare_database(settings))


def serve_workers(settings: Settings) -> None:
    from .app import WORKER_SETTINGS_ENV

    os.environ[WORKER_SETTINGS_ENV] = msgspec.json.encode(settings).decode()
    uvicorn.run(
        "server.app:worker_app",
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        loop="uvloop" if loop_factory() else "auto",
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        ws_max_size=MAX_FRAME_BYTES,
    )


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (it is a dependency on POSIX): a faster loop, same semantics."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = settings_from(args)
    except (SettingsError, DatabaseURLError) as exc:
        print(f"sms-server: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(serve(settings) if settings.workers == 1 else prepare(settings))
        if settings.workers > 1:
            serve_workers(settings)
    except (ServerKeyError, DatabaseURLError, WeakAdminToken) as exc:
        print(f"sms-server: {exc}", file=sys.stderr)
        return 1
    except (OSError, DBAPIError) as exc:
        # The usual first-start trouble: the database is down, refuses us, or does not exist.
        where = make_url(settings.db).render_as_string(hide_password=True)
        print(f"sms-server: cannot use the database {where}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
