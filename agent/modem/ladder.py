"""The recovery ladder of one modem, without I/O: which rung is due, and what was tried.

A modem that stops answering climbs one rung at a time, each rung given `reset_after`
seconds to bring it back before the next is tried:

    reopen  re-open the port and re-initialise (the driver's reconnect, always)
    reset   the functional reset (AT+CFUN=1,1, or the profile's own command)
    usb     re-bind the USB device (sysfs `authorized` 0 then 1)
    person  nothing more to try: the line is down and says what was tried

`reset = off` stops after reopen, `cfun` after reset, `usb` after usb. Resets are rate
limited: at most one per `reset_after`, and `max_per_day` a day, so a modem that keeps
hanging ends with a person instead of rebooting all day. The driver feeds the clock
(monotonic for waiting, wall time for what the status shows).
"""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec


class Rung(enum.StrEnum):
    OK = "ok"
    REOPEN = "reopen"
    RESET = "reset"
    USB = "usb"
    PERSON = "needs-person"


RESET_MODES = ("cfun", "usb", "off")
_CLIMB = {
    "off": (Rung.REOPEN, Rung.PERSON),
    "cfun": (Rung.REOPEN, Rung.RESET, Rung.PERSON),
    "usb": (Rung.REOPEN, Rung.RESET, Rung.USB, Rung.PERSON),
}


class LadderState(msgspec.Struct, kw_only=True):
    """What the line's status shows."""

    rung: Rung = Rung.OK
    why: str = ""  # why the modem is on the ladder (the first failure)
    tried: list[str] = []  # one phrase per rung tried, in order
    last_reset: datetime | None = None
    resets_today: int = 0

    def sentence(self) -> str:
        if self.rung is Rung.OK:
            return ""
        tried = "; ".join(self.tried) or "nothing yet"
        head = "needs a person" if self.rung is Rung.PERSON else f"recovering ({self.rung})"
        return f"{head}: {self.why}; tried: {tried}"


class Ladder:
    def __init__(self, reset: str = "cfun", reset_after: float = 120.0, max_per_day: int = 12):
        if reset not in RESET_MODES:
            raise ValueError(f"reset = {reset!r}: one of {', '.join(RESET_MODES)}")
        if reset_after <= 0:
            raise ValueError(f"reset_after = {reset_after!r}: a positive number of seconds")
        self.mode = reset
        self.reset_after = reset_after
        self.max_per_day = max_per_day
        self.state = LadderState()
        self._since: float | None = None  # monotonic time the current rung began
        self._day: str = ""

    @property
    def rung(self) -> Rung:
        return self.state.rung

    def down(self, now: float, why: str) -> None:
        """The modem stopped answering (or the port went): on the ladder, if not yet."""
        if self.state.rung is Rung.OK:
            self.state.rung = Rung.REOPEN
            self.state.why = why
            self.state.tried = ["re-opening and re-initialising"]
            self._since = now

    def up(self) -> None:
        """Answering and initialised again: off the ladder (the counts stay)."""
        self.state.rung = Rung.OK
        self.state.why = ""
        self.state.tried = []
        self._since = None

    def due(self, now: float, wall: datetime) -> Rung | None:
        """The next rung to climb to now, or None (keep trying the current one). The
        caller performs it and reports with `performed()`."""
        if self.state.rung in (Rung.OK, Rung.PERSON) or self._since is None:
            return None
        if now - self._since < self.reset_after:
            return None
        steps = _CLIMB[self.mode]
        following = steps[steps.index(self.state.rung) + 1]
        if following in (Rung.RESET, Rung.USB):
            self._count_day(wall)
            if self.state.resets_today >= self.max_per_day:
                self.state.tried.append(
                    f"no {following} (already {self.state.resets_today} resets today)"
                )
                following = Rung.PERSON
        self.state.rung = following
        self._since = now
        return following

    def performed(self, rung: Rung, wall: datetime, what: str, *, reset: bool) -> None:
        """`what` happened on `rung` (a phrase for the status); `reset` when the modem
        was actually reset (counted), not when the rung could not be tried."""
        self.state.tried.append(what)
        if reset:
            self._count_day(wall)
            self.state.last_reset = wall
            self.state.resets_today += 1

    def skip(self, now: float) -> None:
        """The rung could not be tried at all (no USB device): the next one is due now."""
        self._since = now - self.reset_after

    def _count_day(self, wall: datetime) -> None:
        day = wall.date().isoformat()
        if day != self._day:
            self._day = day
            self.state.resets_today = 0
