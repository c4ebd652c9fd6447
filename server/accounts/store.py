"""Reading and writing SMS accounts: owner names, config with sealed secrets, the one default."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from sms.model import GatewayType

from ..db.tables import Account, AccountLine, Agent, User
from ..keys import SecretBox
from .config import AccountConfig, parse_config, stored_values
from .lines import account_lines

Owner = aliased(User)


def with_owner() -> Select:  # rows of (Account, owner name or None)
    return select(Account, Owner.name).outerjoin(Owner, Owner.id == Account.owner_id)


def usable_by(user_id: int) -> Select:
    """Accounts a non-admin may see and send with: their own and those without owner."""
    return with_owner().where(or_(Account.owner_id.is_(None), Account.owner_id == user_id))


async def agent_names(session: AsyncSession) -> Sequence[str]:
    return (await session.execute(select(Agent.name))).scalars().all()


async def check_config(
    session: AsyncSession,
    box: SecretBox,
    gateway: GatewayType,
    text: str,
    account: Account | None = None,
) -> AccountConfig:
    """Parse `text` for `gateway`; secrets written `(set)` keep the account's stored ones."""
    stored = box.open(account.secrets) if account is not None else {}
    return parse_config(
        gateway,
        text,
        agents=await agent_names(session),
        stored_secrets=stored,
        fallbacks=await fallback_names(session, account),
    )


async def fallback_names(session: AsyncSession, account: Account | None) -> Sequence[str]:
    """Accounts an agent-backed account may fall back to: the web-gateway ones."""
    web = [g.value for g in GatewayType if not g.runs_on_agent]
    query = select(Account.name).where(Account.gateway.in_(web))
    if account is not None and account.id is not None:
        query = query.where(Account.id != account.id)
    return (await session.execute(query)).scalars().all()


def apply_config(account: Account, box: SecretBox, config: AccountConfig) -> None:
    account.gateway = config.gateway.value
    account.config = config.text
    account.secrets = box.seal(config.secrets)
    account.agent = config.values.get("agent")


async def clear_default(session: AsyncSession, keep: int | None = None) -> None:
    """Unset the default flag everywhere but on `keep`, before setting it there: the
    database's unique index allows one default at most."""
    stmt = update(Account).where(Account.is_default.is_(True))
    if keep is not None:
        stmt = stmt.where(Account.id != keep)
    await session.execute(stmt.values(is_default=False))
    await session.flush()


async def line_agents(session: AsyncSession, account_id: int) -> set[str]:
    """The agents that run a line of this account now."""
    rows = await session.execute(
        select(AccountLine.agent).where(AccountLine.account_id == account_id)
    )
    return set(rows.scalars().all())


async def save_lines(session: AsyncSession, account: Account) -> set[str]:
    """Rewrite the account's rows in account_lines from its configuration (after it is
    flushed, so that it has its id). Returns the agents its lines are on."""
    await session.execute(delete(AccountLine).where(AccountLine.account_id == account.id))
    if not GatewayType(account.gateway).runs_on_agent:
        return set()
    lines = account_lines(account.name, stored_values(account.config))
    for spec in lines:
        session.add(
            AccountLine(
                account_id=account.id,
                position=spec.position,
                agent=spec.agent,
                line=spec.name,
                per_minute=spec.per_minute,
                per_day=spec.per_day,
                per_recipient_day=spec.per_recipient_day,
            )
        )
    await session.flush()
    return {spec.agent for spec in lines}
