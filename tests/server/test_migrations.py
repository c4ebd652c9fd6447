"""Migrations: an empty database upgrades to the schema the code expects, a database made by
the first migration upgrades cleanly with its data, and the way down works too."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.db import migrate
from server.db.engine import make_engine
from server.db.tables import Base
from tests.peers import POSTGRES_URL
from tests.server.conftest import pg_execute

FIRST = "0001"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.peer("postgresql"))])
async def empty_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
        yield engine
        await engine.dispose()
        return
    schema = f"smsbridge_mig_{uuid.uuid4().hex[:12]}"
    await pg_execute(f'CREATE SCHEMA "{schema}"')
    engine = make_engine(POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}})
    try:
        yield engine
    finally:
        await engine.dispose()
        await pg_execute(f'DROP SCHEMA "{schema}" CASCADE')


def _schema_diff(connection: Connection) -> list[object]:
    return compare_metadata(MigrationContext.configure(connection), Base.metadata)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_empty_database_upgrades_to_the_schema_of_the_code(empty_engine: AsyncEngine) -> None:
    await migrate.upgrade(empty_engine)
    assert await migrate.current_revision(empty_engine) == migrate.head()
    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_schema_diff) == []


async def test_first_migration_database_upgrades_cleanly_keeping_its_data(
    empty_engine: AsyncEngine,
) -> None:
    await migrate.upgrade(empty_engine, FIRST)
    async with empty_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO users (name, rights, token_hash, created_at) "
                "VALUES ('old', 'read', 'h', CURRENT_TIMESTAMP)"
            )
        )
    await migrate.upgrade(empty_engine)
    await migrate.upgrade(empty_engine)  # a second start finds nothing to do
    assert await migrate.current_revision(empty_engine) == migrate.head()
    async with empty_engine.connect() as conn:
        assert (await conn.execute(text("SELECT name FROM users"))).scalars().all() == ["old"]
        assert await conn.run_sync(_schema_diff) == []


async def test_downgrade_to_nothing_and_back(empty_engine: AsyncEngine) -> None:
    await migrate.upgrade(empty_engine)

    def down(connection: Connection) -> None:
        command.downgrade(migrate.alembic_config(connection), "base")

    async with empty_engine.begin() as conn:
        await conn.run_sync(down)
    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_tables) <= {"alembic_version"}
    await migrate.upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        assert await conn.run_sync(_schema_diff) == []


async def test_agent_backed_accounts_become_their_first_line(empty_engine: AsyncEngine) -> None:
    await migrate.upgrade(empty_engine, "0004")
    async with empty_engine.begin() as conn:
        for name, gateway, agent in (("GSM1", "modem", "office-1"), ("web", "url", None)):
            await conn.execute(
                text(
                    "INSERT INTO accounts (name, phone, gateway, strip_diacritics, config, "
                    "agent, is_default, poll_incoming, sharing, created_at) VALUES "
                    "(:name, '', :gateway, false, '', :agent, false, false, 'private', "
                    "CURRENT_TIMESTAMP)"
                ),
                {"name": name, "gateway": gateway, "agent": agent},
            )
    await migrate.upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT position, agent, line, per_minute FROM account_lines"))
        ).all()
    assert [tuple(r) for r in rows] == [(1, "office-1", "GSM1", None)]
