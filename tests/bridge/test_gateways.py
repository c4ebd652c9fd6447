"""One list of gateways on the agent side: the protocol's `ConfigPush.gateway`. The
allow-list's keys, the line factories and the idempotent ones all name the same."""

from __future__ import annotations

from pathlib import Path
from typing import get_args, get_type_hints

from agent.bridge.allow_list import PUSHED_KEYS
from agent.bridge.lines import IDEMPOTENT_GATEWAYS
from agent.lines import line_factories
from bridge import protocol as p


def protocol_gateways() -> set[str]:
    return set(get_args(get_type_hints(p.ConfigPush)["gateway"]))


def test_every_agent_table_names_the_protocols_gateways(tmp_path: Path) -> None:
    gateways = protocol_gateways()
    assert gateways == {"modem", "gammu", "smstools", "smslib"}
    assert set(PUSHED_KEYS) == gateways
    assert set(line_factories(tmp_path)) == gateways
    assert gateways > IDEMPOTENT_GATEWAYS
    assert set(get_args(get_type_hints(p.LineInfo)["kind"])) == gateways
