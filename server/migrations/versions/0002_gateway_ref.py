"""messages.gateway_ref: the id a web gateway gave a message (smsbrana sms_id, O2 refMsgID)
or, for an incoming one, the key that de-duplicates it.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gateway_ref", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_messages_account_gateway_ref", ["account_id", "gateway_ref"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_account_gateway_ref")
        batch_op.drop_column("gateway_ref")
