"""The kinds of line this agent can run, by gateway id, for `sms-agent run`."""

from __future__ import annotations

from collections.abc import Mapping

from agent.bridge.runtime import LineFactory


def line_factories() -> Mapping[str, LineFactory]:
    return {}
