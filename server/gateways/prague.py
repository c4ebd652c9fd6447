"""Prague local time: smsbrana.cz and O2 both write times without a zone, in Czech time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PRAGUE = ZoneInfo("Europe/Prague")


def from_iso(raw: str) -> dt.datetime | None:
    """An ISO 8601 time as aware UTC; without a zone it is Prague time. None when unreadable."""
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PRAGUE)
    return parsed.astimezone(dt.UTC)
