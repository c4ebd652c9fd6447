"""The server's settings: command-line options over an optional TOML file over defaults."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy.engine import make_url

DEFAULT_DB = "sqlite:///smsbridge.sqlite"
KEY_FILE_NAME = "smsbridge.key"


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    db: str = DEFAULT_DB
    host: str = "127.0.0.1"
    port: int = 8765
    # Where the server key lives; default: beside a SQLite file, else the working directory.
    key_file: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Group commit: at most this many messages are written in one transaction.
    commit_batch: int = 512
    # Server processes sharing the port. Each has its own caches: an account change made
    # through one is seen by the others within the cache's few seconds.
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    # Reverse proxies whose X-Forwarded-Proto/-For are believed (comma-separated IPs or
    # "*"): behind them the session cookie is Secure and the login throttle sees the
    # client's address, not the proxy's.
    forwarded_allow_ips: str = "127.0.0.1"
    # The time zone of an account's quiet_hours when it names none (IANA name).
    time_zone: str = "Europe/Prague"

    def key_path(self) -> Path:
        if self.key_file:
            return Path(self.key_file)
        url = make_url(self.db)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            return Path(url.database).resolve().parent / KEY_FILE_NAME
        return Path.cwd() / KEY_FILE_NAME


class SettingsError(ValueError):
    pass


def load_file(path: Path) -> dict[str, object]:
    """Read a TOML settings file (keys as in Settings, e.g. `db = "postgresql://..."`)."""
    try:
        return tomllib.loads(path.read_text())
    except OSError as exc:
        raise SettingsError(f"--config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"--config {path}: {exc}") from None


def build(file_values: dict[str, object], overrides: dict[str, object]) -> Settings:
    merged = {**file_values, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        settings = msgspec.convert(merged, Settings)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"settings: {exc}") from None
    try:
        ZoneInfo(settings.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"settings: time_zone {settings.time_zone!r} is not a time zone (e.g. Europe/Prague)"
        ) from None
    return settings
