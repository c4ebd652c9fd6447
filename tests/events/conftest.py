"""The events tests reuse the server's fixtures: a real SQLite file or PostgreSQL schema,
the server opened with open_server, the app over ASGI."""

from tests.server.conftest import (  # noqa: F401
    api,
    app,
    database,
    engine,
    loopback,
    pg_schema,
    server,
    settings,
    sqlite_template,
)
