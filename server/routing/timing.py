"""When a message may go: quiet hours and days of an account, in its time zone (pure).

`quiet_hours = 21:00-08:00` may wrap midnight; `quiet_days = sat,sun` makes whole local
days quiet. A message due in quiet time waits until the first moment that is not.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)$")
DEFAULT_ZONE = "Europe/Prague"
DEFAULT_BULK_SHARE = 0.5


class Priority(enum.IntEnum):
    """Stored as a small integer: the queue is read in this order, then oldest first."""

    HIGH = 0
    NORMAL = 1
    BULK = 2


class Quiet(msgspec.Struct, frozen=True, kw_only=True):
    start: int | None = None  # minutes after local midnight; None: no quiet hours
    end: int | None = None
    days: frozenset[int] = frozenset()  # weekdays (0 = Monday) that are quiet all day
    zone: str = DEFAULT_ZONE
    high_send: bool = False  # `quiet_hours_high = send`: high priority goes anyway

    @property
    def empty(self) -> bool:
        return (self.start is None or self.start == self.end) and not self.days


def parse_hours(raw: str) -> tuple[int, int]:
    """`21:00-08:00` → (1260, 480); ValueError naming what is wrong."""
    match = _HOURS.match(raw.strip())
    if not match:
        raise ValueError(f"{raw!r} is not HH:MM-HH:MM (e.g. 21:00-08:00)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return h1 * 60 + m1, h2 * 60 + m2


def parse_days(raw: str) -> frozenset[int]:
    days = set()
    for word in (w.strip().lower() for w in raw.split(",")):
        if not word:
            continue
        if word[:3] not in DAY_NAMES:
            raise ValueError(f"{word!r} is not a day (use {', '.join(DAY_NAMES)})")
        days.add(DAY_NAMES.index(word[:3]))
    return frozenset(days)


def check_zone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{raw!r} is not a time zone (e.g. Europe/Prague, UTC)") from None


def quiet_of(values: Mapping[str, str], default_zone: str = DEFAULT_ZONE) -> Quiet:
    """The account's quiet time from its (already checked) configuration values."""
    get = values.get
    start = end = None
    if raw := get("quiet_hours"):
        start, end = parse_hours(raw)
    return Quiet(
        start=start,
        end=end,
        days=parse_days(get("quiet_days") or ""),
        zone=get("time_zone") or default_zone,
        high_send=(get("quiet_hours_high") or "").lower() == "send",
    )


def bulk_share_of(values: Mapping[str, str]) -> float:
    raw = values.get("bulk_share")
    if not raw:
        return DEFAULT_BULK_SHARE
    return int(raw.rstrip("% ")) / 100


def _at(day: dt.date, minutes: int, zone: ZoneInfo) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=zone)
    # A wall time that does not exist (a DST gap) normalises to the real instant after it.
    return local.astimezone(dt.UTC).astimezone(zone)


def quiet_until(now: dt.datetime, quiet: Quiet) -> dt.datetime | None:
    """The end of the quiet time `now` is in (aware UTC), or None when it is not quiet."""
    if quiet.empty:
        return None
    zone = ZoneInfo(quiet.zone)
    t = now.astimezone(zone)
    start, end = quiet.start, quiet.end
    for _ in range(16):  # a quiet day, then its evening's hours, then the next day...
        if t.weekday() in quiet.days:
            t = _at(t.date() + dt.timedelta(days=1), 0, zone)
            continue
        if start is not None and end is not None and start != end:
            minute = t.hour * 60 + t.minute
            if start < end and start <= minute < end:
                t = _at(t.date(), end, zone)
                continue
            if start > end and (minute >= start or minute < end):
                day = t.date() + dt.timedelta(days=1) if minute >= start else t.date()
                t = _at(day, end, zone)
                continue
        break
    until = t.astimezone(dt.UTC)
    return until if until > now else None


def describe_until(until: dt.datetime, now: dt.datetime, zone: str) -> str:
    local = until.astimezone(ZoneInfo(zone))
    if until - now < dt.timedelta(hours=20):
        return f"{local:%H:%M} {zone}"
    return f"{local:%Y-%m-%d %H:%M} {zone}"
