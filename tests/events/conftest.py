"""The events tests reuse the server's fixtures: a real SQLite file or PostgreSQL schema,
the server opened with open_server, the app over ASGI. Webhook retries here are fast."""

from pathlib import Path

import pytest

from server.settings import Settings
from tests.server.conftest import (  # noqa: F401
    Database,
    api,
    app,
    database,
    engine,
    loopback,
    pg_schema,
    server,
    sqlite_template,
)


@pytest.fixture
def settings(database: Database, tmp_path: Path) -> Settings:  # noqa: F811
    return Settings(
        db=database.url,
        key_file=str(tmp_path / "smsbridge.key"),
        webhook_timeout=1.0,
        webhook_retry_base=0.05,
        webhook_retry_max=0.2,
        webhook_retry_for=60.0,
    )
