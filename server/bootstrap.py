"""First start: the admin user and the default smsbrana account.

What was seeded is remembered in the `meta` table, so a deleted default account stays
deleted and a restart never creates a second admin.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from sms.model import GatewayType, Sharing

from .accounts.config import default_config
from .db.tables import Account, Meta, User
from .tokens import USER_PREFIX, hash_token, new_token

ADMIN_NAME = "admin"
MIN_ADMIN_TOKEN = 24  # characters; a generated token has 47


class WeakAdminToken(ValueError):
    pass


def check_admin_token(token: str) -> None:
    if len(token) < MIN_ADMIN_TOKEN:
        raise WeakAdminToken(
            f"SMSBRIDGE_ADMIN_TOKEN has {len(token)} characters; it must have at least "
            f"{MIN_ADMIN_TOKEN} (leave it unset and the server makes and prints one)"
        )


SEEDED_ADMIN = "seeded.admin"
SEEDED_ACCOUNT = "seeded.default_account"


async def _seeded(session: AsyncSession, key: str) -> bool:
    return await session.get(Meta, key) is not None


async def seed(session: AsyncSession, admin_token: str | None) -> str | None:
    """Create what a first start creates. Returns the admin token when one was generated
    (to be printed once), None otherwise. Runs inside the caller's transaction."""
    generated: str | None = None
    if not await _seeded(session, SEEDED_ADMIN):
        has_admin = (await session.execute(select(User.id).limit(1))).first() is not None
        if not has_admin:
            token = admin_token or new_token(USER_PREFIX)
            generated = None if admin_token else token
            session.add(
                User(name=ADMIN_NAME, rights="admin,read,send", token_hash=hash_token(token))
            )
        session.add(Meta(key=SEEDED_ADMIN, value="1"))
    if not await _seeded(session, SEEDED_ACCOUNT):
        session.add(
            Account(
                name="smsbrana.cz",
                owner_id=None,
                phone="",
                gateway=GatewayType.SMSBRANA.value,
                strip_diacritics=False,
                config=default_config(GatewayType.SMSBRANA),
                secrets=None,
                is_default=True,
                poll_incoming=False,
                sharing=Sharing.PRIVATE.value,
            )
        )
        session.add(Meta(key=SEEDED_ACCOUNT, value="1"))
    return generated
