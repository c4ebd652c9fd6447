"""several lines per agent-backed account: account_lines; messages.line and route

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

AGENT_GATEWAYS = ("modem", "gammu", "smstools", "smslib")


def upgrade() -> None:
    op.create_table(
        "account_lines",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("agent", sa.String(length=100), nullable=False),
        sa.Column("line", sa.String(length=110), nullable=False),
        sa.Column("per_minute", sa.Integer(), nullable=True),
        sa.Column("per_day", sa.Integer(), nullable=True),
        sa.Column("per_recipient_day", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", "position"),
    )
    op.create_index("ix_account_lines_agent_line", "account_lines", ["agent", "line"])
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("line", sa.String(length=210), nullable=True))
        batch.add_column(sa.Column("route", sa.String(length=210), nullable=True))
        batch.create_index("ix_messages_line_sent", ["line", "sent_at"])
        batch.create_index("ix_messages_peer", ["peer"])
    # Every existing agent-backed account is one line, named after the account.
    gateways = ", ".join(f"'{g}'" for g in AGENT_GATEWAYS)
    op.execute(
        "INSERT INTO account_lines (account_id, position, agent, line) "
        "SELECT id, 1, agent, name FROM accounts "
        f"WHERE agent IS NOT NULL AND gateway IN ({gateways})"
    )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_peer")
        batch.drop_index("ix_messages_line_sent")
        batch.drop_column("route")
        batch.drop_column("line")
    op.drop_index("ix_account_lines_agent_line", table_name="account_lines")
    op.drop_table("account_lines")
