"""Root conftest: puts the project root on sys.path and wires the `peer` marker.

A test marked ``@pytest.mark.peer("smsd")`` needs a real peer. When the peer is
missing it is skipped, except under SMSBRIDGE_REQUIRE_PEERS=1 (set by .ci/run),
where it fails: CI must never pass by skipping the real thing.
"""

from __future__ import annotations

import pytest

from tests.peers import PEERS, require_peer


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers(name="peer"):
        for name in marker.args:
            if name not in PEERS:
                raise pytest.UsageError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
            require_peer(name)
