"""A line's last 24 hours of signal and registration, one sample a minute, without I/O.

Kept compact for the status frame: dBm per minute from `start` (None where nothing
was measured) and one letter per minute for registration, so 1,440 minutes cost
about 7 KB of JSON, well under the frame limit.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta

import msgspec

from bridge import protocol as p

MINUTES = 24 * 60
# One letter per registration word of agent/lines/modem.py; "-" nothing measured.
LETTERS = {
    "home": "h",
    "roaming": "r",
    "searching": "s",
    "denied": "d",
    "not-registered": "n",
    "emergency-only": "e",
    "unknown": "?",
}


def _minute(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(second=0, microsecond=0)


class SignalLog:
    def __init__(self, minutes: int = MINUTES) -> None:
        self.minutes = minutes
        self._samples: deque[tuple[datetime, int | None, str]] = deque(maxlen=minutes)

    def add(self, when: datetime, dbm: int | None, registration: str | None) -> None:
        """One measurement; a second one in the same minute replaces the first."""
        minute = _minute(when)
        letter = LETTERS.get(registration or "", "?") if registration or dbm is not None else "-"
        if self._samples and self._samples[-1][0] == minute:
            self._samples.pop()
        elif self._samples and self._samples[-1][0] > minute:
            return  # the clock went back: keep the history in order
        self._samples.append((minute, dbm, letter))

    def dump(self) -> bytes:
        """The samples as JSON, for the agent's state directory."""
        return msgspec.json.encode(list(self._samples))

    def load(self, data: bytes) -> None:
        """Samples from dump(); a damaged file is ignored (history starts afresh)."""
        try:
            samples = msgspec.json.decode(data, type=list[tuple[datetime, int | None, str]])
        except (msgspec.DecodeError, msgspec.ValidationError):
            return
        self._samples.clear()
        for minute, dbm, letter in samples:
            if not self._samples or minute > self._samples[-1][0]:
                self._samples.append((minute.astimezone(UTC), dbm, letter[:1] or "-"))

    def __len__(self) -> int:
        return len(self._samples)

    def history(self, now: datetime) -> p.SignalHistory | None:
        """Minute by minute over the last 24 h up to `now`; gaps (agent stopped, clock
        jumps) are filled with None and "-"."""
        if not self._samples:
            return None
        end = _minute(now)
        start = max(self._samples[0][0], end - timedelta(minutes=self.minutes - 1))
        count = int((end - start).total_seconds() // 60) + 1
        dbm: list[int | None] = [None] * count
        letters = ["-"] * count
        for minute, value, letter in self._samples:
            index = int((minute - start).total_seconds() // 60)
            if 0 <= index < count:
                dbm[index], letters[index] = value, letter
        return p.SignalHistory(start=start, dbm=dbm, registration="".join(letters))
