"""Engine creation: any SQLAlchemy URL in, an async engine out."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

# Users write the URL they know (`postgresql://...`, `sqlite:///x.db`); the server needs the
# async driver of that database.
ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mariadb+aiomysql",
}


class DatabaseURLError(ValueError):
    pass


def async_url(url: str | URL) -> URL:
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise DatabaseURLError(f"--db {str(url)!r} is not a database URL: {exc}") from None
    backend, _, driver = parsed.drivername.partition("+")
    if (driver and backend != "sqlite") or driver == "aiosqlite":
        return parsed
    target = ASYNC_DRIVERS.get(backend)
    if target is None:
        raise DatabaseURLError(
            f"--db: no async driver known for {backend!r} (use one of {', '.join(ASYNC_DRIVERS)})"
        )
    return parsed.set(drivername=target)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; foreign keys make ON DELETE SET NULL work;
    # busy_timeout makes a second writer wait instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _private_sqlite_file(url: URL) -> None:
    """Create a new SQLite database file 0600 (like the server key): it holds token hashes,
    password hashes and messages. SQLite gives its -wal and -shm files the same mode."""
    path = url.database
    if not path or path == ":memory:" or path.startswith("file:") or os.path.exists(path):
        return
    with contextlib.suppress(FileNotFoundError):  # a missing folder: SQLite says so itself
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def make_engine(url: str | URL, **kwargs: Any) -> AsyncEngine:
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        _private_sqlite_file(target)
    # Statement parameters (tokens' hashes, sealed secrets) stay out of logs and errors.
    kwargs.setdefault("hide_parameters", True)
    try:
        engine = create_async_engine(target, **kwargs)
    except ImportError as exc:
        raise DatabaseURLError(
            f"--db: the driver {target.drivername!r} is not installed ({exc.name or exc}); "
            f"pip install {exc.name or 'it'}"
        ) from None
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def make_sessionmaker(
    engine: AsyncEngine, session_class: type[Session] | None = None
) -> async_sessionmaker:
    """`session_class`: the sync Session class (events/bell.py gives one that rings)."""
    if session_class is None:
        return async_sessionmaker(engine, expire_on_commit=False)
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=session_class)
