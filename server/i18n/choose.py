"""Which language and time zone a page is shown in: the user's own choice, else (for the
language) the browser's Accept-Language, else the server's settings."""

from __future__ import annotations

import zoneinfo
from functools import cache

from .catalogue import LANGUAGES


def accepted(header: str | None) -> list[str]:
    """The primary language tags of an Accept-Language header, best first; `q=0` and
    malformed entries are dropped (`cs-CZ,cs;q=0.9,en;q=0.5` → cs, cs, en)."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((header or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and quality > 0:
            ranked.append((-quality, index, primary))
    return [tag for _, _, tag in sorted(ranked)]


def language(own: str | None, accept_language: str | None, default: str) -> str:
    if own in LANGUAGES:
        return own
    for tag in accepted(accept_language):
        if tag in LANGUAGES:
            return tag
    return default


@cache
def zones() -> list[str]:
    """Every IANA zone name the system (or the tzdata package) knows, for the settings."""
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z and "Etc/" not in z)


def is_zone(name: str) -> bool:
    if not name or name.startswith(("/", ".")) or ".." in name:
        return False  # ZoneInfo would read a file path
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(own: str | None, default: str) -> str:
    return own if own and is_zone(own) else default
