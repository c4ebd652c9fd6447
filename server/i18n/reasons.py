"""The routing reasons (a message's `detail` while it waits, a line's `why_not`) are
English sentences the planner composes (server/routing/planner.py) and the API keeps as
they are; a page shows them in its language by recognising their known shapes here. A
text of no known shape (a device's or a gateway's own words) is shown unchanged."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from .catalogue import N_

Gettext = Callable[[str], str]
When = Callable[[dt.datetime], str]  # a stored UTC time as the page shows it

_WHY: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"agent offline"), N_("agent offline")),
    (re.compile(r"down"), N_("down")),
    (re.compile(r"busy"), N_("busy")),
    (re.compile(r"no longer configured"), N_("no longer configured")),
    (re.compile(r"on another server process"), N_("on another server process")),
    (
        re.compile(r"over per_day: sent (?P<used>\d+) of (?P<limit>\d+) segments in 24 h"),
        N_("over per_day: sent %(used)s of %(limit)s segments in 24 h"),
    ),
    (
        re.compile(r"over per_minute: sent (?P<used>\d+) of (?P<limit>\d+) segments this minute"),
        N_("over per_minute: sent %(used)s of %(limit)s segments this minute"),
    ),
    (
        re.compile(
            r"has sent (?P<used>\d+) of (?P<limit>\d+) segments this minute"
            r" \(this message has (?P<parts>\d+)\)"
        ),
        N_("has sent %(used)s of %(limit)s segments this minute (this message has %(parts)s)"),
    ),
    (
        re.compile(r"has sent (?P<used>\d+) of (?P<limit>\d+) segments in 24 h"),
        N_("has sent %(used)s of %(limit)s segments in 24 h"),
    ),
    (
        re.compile(r"has sent (?P<used>\d+) of (?P<limit>\d+) segments to this number in 24 h"),
        N_("has sent %(used)s of %(limit)s segments to this number in 24 h"),
    ),
]
_LINE = re.compile(r"line (?P<line>\S+) (?P<why>.+)")
_PINNED = re.compile(
    r"waiting: handed to line (?P<line>\S+) before, which has not acknowledged it \((?P<why>.+)\)"
)
# The control's shapes (server/api/message_control.py, message_cancel.py, routing/planner.py)
_SCHEDULED = re.compile(r"scheduled for (?P<at>\S+)")
_CANCELLED = re.compile(r"cancelled by (?P<name>.+) at (?P<at>\S+)")
_QUIET = re.compile(r"waiting: quiet hours until (?P<until>\d[\d:\- ]*\S+)")
_FALLBACK = re.compile(
    r"sent through the fallback account (?P<name>'.*'|\".*\"): no line of the account was usable"
)


def _why(text: str, _: Gettext) -> str | None:
    for pattern, template in _WHY:
        found = pattern.fullmatch(text)
        if found:
            return _(template) % found.groupdict()
    return None


def _time(raw: str, when: When | None) -> str:
    """An RFC 3339 time of a reason in the page's zone and language (as stored without)."""
    if when is None:
        return raw
    try:
        return when(dt.datetime.fromisoformat(raw.replace("Z", "+00:00")))
    except ValueError:
        return raw


def translate(text: str | None, _: Gettext, when: When | None = None) -> str:
    if not text:
        return ""
    if found := _SCHEDULED.fullmatch(text):
        return _(N_("scheduled for %(at)s")) % {"at": _time(found["at"], when)}
    if found := _CANCELLED.fullmatch(text):
        at = _time(found["at"], when)
        return _(N_("cancelled by %(name)s at %(at)s")) % {"name": found["name"], "at": at}
    if found := _QUIET.fullmatch(text):
        return _(N_("waiting: quiet hours until %(until)s")) % {"until": found["until"]}
    if text == "waiting: the account has no line":
        return _(N_("waiting: the account has no line"))
    if found := _PINNED.fullmatch(text):
        why = _why(found["why"], _) or found["why"]
        return _(
            N_("waiting: handed to line %(line)s before, which has not acknowledged it (%(why)s)")
        ) % {"line": found["line"], "why": why}
    if found := _FALLBACK.fullmatch(text):
        return _(
            N_("sent through the fallback account %(name)s: no line of the account was usable")
        ) % {"name": found["name"]}
    if text.startswith("waiting: "):
        parts = []
        for part in text.removeprefix("waiting: ").split("; "):
            line = _LINE.fullmatch(part)
            why = _why(line["why"], _) if line else None
            if line is None or why is None:
                return text  # a shape this module does not know: as it is
            parts.append(_(N_("line %(line)s %(why)s")) % {"line": line["line"], "why": why})
        return _(N_("waiting: %(reasons)s")) % {"reasons": "; ".join(parts)}
    return _why(text, _) or text
