"""Alembic migrations, run by server/db/migrate.py at start."""
