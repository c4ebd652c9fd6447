"""control over when, how and to whom: send_at, valid_until, priority, sender, flash,
category on messages; the opt-out (suppression) list

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("send_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("sender", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("flash", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("category", sa.String(length=16), nullable=True))
        batch.create_index("ix_messages_state_send_at", ["state", "send_at"])
    op.create_table(
        "optouts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_optouts_number", "optouts", ["number"])


def downgrade() -> None:
    op.drop_index("ix_optouts_number", table_name="optouts")
    op.drop_table("optouts")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_state_send_at")
        for column in ("category", "flash", "sender", "priority", "valid_until", "send_at"):
            batch.drop_column(column)
