"""Real peers the integration tests talk to, and how to tell whether each is here."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable
from functools import cache

import pytest

POSTGRES_URL = os.environ.get(
    "SMSBRIDGE_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get("SMSBRIDGE_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def _tcp(host: str, port: int) -> Callable[[], str | None]:
    def check() -> str | None:
        try:
            with socket.create_connection((host, port), timeout=2):
                return None
        except OSError as exc:
            return f"nothing answers on {host}:{port} ({exc.strerror or exc})"

    return check


def _binary(name: str, package: str) -> Callable[[], str | None]:
    def check() -> str | None:
        if shutil.which(name) or os.path.exists(f"/usr/sbin/{name}"):
            return None
        return f"{name} not found (apt-get install {package})"

    return check


def _gammu() -> str | None:
    try:
        import gammu  # noqa: F401
    except ImportError as exc:
        return f"python-gammu (libgammu) not importable: {exc} (pip install '.[gammu]')"
    return None


PEERS: dict[str, Callable[[], str | None]] = {
    "smsd": _binary("smsd", "smstools"),
    "gammu": _gammu,
    "postgresql": _tcp("127.0.0.1", 5432),
    "mariadb": _tcp("127.0.0.1", 3306),
    "chromium": _binary("chromium", "chromium"),
    "systemd-analyze": _binary("systemd-analyze", "systemd"),
}


@cache
def missing(name: str) -> str | None:
    """Why the peer is missing, or None when it is here."""
    return PEERS[name]()


def peers_required() -> bool:
    return os.environ.get("SMSBRIDGE_REQUIRE_PEERS", "") not in ("", "0")


def require_peer(name: str) -> None:
    why = missing(name)
    if why is None:
        return
    if peers_required():
        pytest.fail(f"peer {name} is required (SMSBRIDGE_REQUIRE_PEERS=1) but {why}")
    pytest.skip(f"peer {name} missing: {why}")
