"""calls: incoming calls that modem lines hung up (issue 17)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
            nullable=False,
        ),
        sa.Column("agent", sa.String(length=100), nullable=False),
        sa.Column("line", sa.String(length=110), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("caller", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )  # fmt: skip
    op.create_index("ix_calls_at", "calls", ["at"])


def downgrade() -> None:
    op.drop_index("ix_calls_at", table_name="calls")
    op.drop_table("calls")
