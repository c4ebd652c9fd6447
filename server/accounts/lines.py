"""The lines of an agent-backed account, read from its checked configuration (pure).

Line 1 is described by the unprefixed keys and carries the account's name, as it always
has; line N (N >= 2) by the `lineN.` keys and is named `<account>#N` on its agent.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from .config import CONTROL_KEYS, FALLBACK_AFTER_DEFAULT, PACING_KEYS, ROUTING_KEYS, base_key

_NOT_FOR_THE_AGENT = frozenset(
    {"agent"}
    | {k.name for k in PACING_KEYS}
    | {k.name for k in ROUTING_KEYS}
    | {k.name for k in CONTROL_KEYS}
)


class LineSpec(msgspec.Struct, frozen=True):
    position: int  # 1 for the unprefixed keys, N for `lineN.`
    name: str  # the line's name on its agent
    agent: str
    config: dict[str, str]  # what the agent is pushed (secrets included)
    per_minute: int | None = None
    per_day: int | None = None
    per_recipient_day: int | None = None


def line_name(account: str, position: int) -> str:
    return account if position == 1 else f"{account}#{position}"


def account_lines(
    account: str, values: Mapping[str, str], secrets: Mapping[str, str] | None = None
) -> list[LineSpec]:
    """Every line the configuration describes, by position. `values` are the stored
    (non-secret) values; `secrets` the opened secrets (for config pushes)."""
    per_line: dict[int, dict[str, str]] = {}
    for name, value in [*values.items(), *(secrets or {}).items()]:
        position, base = base_key(name)
        per_line.setdefault(position, {})[base] = value
    out: list[LineSpec] = []
    for position in sorted(per_line):
        keys = per_line[position]
        if not keys.get("agent"):
            continue
        out.append(
            LineSpec(
                position=position,
                name=line_name(account, position),
                agent=keys["agent"],
                config={k: v for k, v in keys.items() if k not in _NOT_FOR_THE_AGENT},
                per_minute=_int(keys.get("per_minute")),
                per_day=_int(keys.get("per_day")),
                per_recipient_day=_int(keys.get("per_recipient_day")),
            )
        )
    return out


def fallback_of(values: Mapping[str, str]) -> tuple[str | None, int]:
    """The fallback account's name (None: none) and after how many seconds it sends."""
    after = _int(values.get("fallback_after")) or FALLBACK_AFTER_DEFAULT
    return values.get("fallback") or None, after


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None
