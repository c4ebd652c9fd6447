"""The server's settings: command-line options over an optional TOML file over defaults."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy.engine import make_url

from .i18n.choose import is_zone

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
    # The pages: their language when neither the user nor the browser chose one, and the
    # time zone of the times they show when the user chose none (and of an account's
    # quiet_hours when it names no time_zone).
    default_language: Literal["cs", "en"] = "cs"
    time_zone: str = "Europe/Prague"
    # Tests: a string missing from a catalogue shows as ⟦msgid⟧ instead of in English.
    strict_translations: bool = False
    # The bearer token /metrics asks for (at least 24 characters). Unset: /metrics
    # answers loopback clients only (their address as the trusted proxy forwards it).
    metrics_token: Annotated[str, msgspec.Meta(min_length=24)] | None = None

    def __post_init__(self) -> None:
        if not is_zone(self.time_zone):
            raise ValueError(f"time_zone: {self.time_zone!r} is not a known IANA time zone")

    # Seconds between polls of the web gateways' inboxes (smsbrana inbox, O2 receive) when
    # no push arrives.
    poll_interval: Annotated[float, msgspec.Meta(ge=0.5, le=3600)] = 60.0
    # Events (GET /api/events, webhooks) are kept this many days; an older cursor is a 410.
    event_retention_days: Annotated[float, msgspec.Meta(gt=0)] = 7.0
    # Webhooks: seconds to wait for an answer; retries back off from `retry_base` doubling
    # up to `retry_max` (with jitter) until `retry_for` seconds after the first attempt,
    # then the delivery is given up and its endpoint marked failing.
    webhook_timeout: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    webhook_retry_base: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    webhook_retry_max: Annotated[float, msgspec.Meta(gt=0)] = 3600.0
    webhook_retry_for: Annotated[float, msgspec.Meta(gt=0)] = 3 * 24 * 3600.0

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
