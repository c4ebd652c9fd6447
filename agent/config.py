"""agent.toml: where the server is, who the agent is, where its state lives, and what
the server may configure on this machine.

    server = "ws://127.0.0.1:8765/agent"   # or wss:// (with ca = "...")
    name = "office-1"
    token = "..."
    state_dir = "/var/lib/smsbridge"
    allow = ["/dev/gsmmodem*", "/var/spool/sms/**"]
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

from agent.errors import AgentError

# deploy/agent.toml.example's token: an agent started with it would only be refused.
PLACEHOLDER_PREFIX = "PASTE-"


class ConfigError(AgentError):
    """agent.toml is missing, unreadable or wrong; the message says where."""


class AgentConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    server: str
    name: str
    token: str
    state_dir: str = "/var/lib/smsbridge"
    allow: list[str] = []
    ca: str | None = None  # CA bundle for wss:// with a private CA
    status_socket: str | None = None  # default: <state_dir>/agent.sock
    reconnect_max_seconds: float = 60.0

    def __post_init__(self) -> None:
        scheme = urlsplit(self.server).scheme
        if scheme not in ("ws", "wss"):
            raise ValueError(f"server must be a ws:// or wss:// URL, not {self.server!r}")
        if not self.name.strip():
            raise ValueError("name must not be empty")
        if not self.token.strip():
            raise ValueError("token must not be empty (POST /api/agents on the server gives one)")
        if self.token.startswith(PLACEHOLDER_PREFIX):
            raise ValueError(
                "token is still the example's placeholder: put the token that POST "
                "/api/agents returned for this agent"
            )
        if self.ca and scheme != "wss":
            raise ValueError("ca is only used with a wss:// server")

    @property
    def state_path(self) -> Path:
        return Path(self.state_dir)

    @property
    def socket_path(self) -> Path:
        return Path(self.status_socket) if self.status_socket else self.state_path / "agent.sock"


def parse_config(text: str, source: str = "agent.toml") -> AgentConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    try:
        return msgspec.convert(data, AgentConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def load_config(path: Path | str) -> AgentConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    return parse_config(text, str(path))
