"""Failed logins slow down the next attempt from the same address: a few mistakes are
free, then each further one doubles the wait (up to a cap). Pure: the caller passes the
time; one instance per server process (Server.logins)."""

from __future__ import annotations

from dataclasses import dataclass, field

FREE_FAILURES = 5
FIRST_WAIT = 2.0  # seconds, after the free failures
MAX_WAIT = 300.0
FORGET_AFTER = 3600.0  # a quiet hour wipes an address's record


@dataclass
class _Record:
    failures: int = 0
    last: float = 0.0
    until: float = 0.0


@dataclass
class LoginThrottle:
    _records: dict[str, _Record] = field(default_factory=dict)

    def wait(self, who: str, now: float) -> float:
        """Seconds before `who` may try again (0: now)."""
        record = self._records.get(who)
        if record is None:
            return 0.0
        if now - record.last > FORGET_AFTER:
            del self._records[who]
            return 0.0
        return max(0.0, record.until - now)

    def failed(self, who: str, now: float) -> None:
        record = self._records.setdefault(who, _Record())
        record.failures += 1
        record.last = now
        extra = record.failures - FREE_FAILURES
        if extra > 0:
            record.until = now + min(MAX_WAIT, FIRST_WAIT * 2 ** (extra - 1))
        if len(self._records) > 10_000:  # bounded memory under a spray of addresses
            self._forget_old(now)

    def succeeded(self, who: str) -> None:
        self._records.pop(who, None)

    def _forget_old(self, now: float) -> None:
        for key in [k for k, r in self._records.items() if now - r.last > FORGET_AFTER]:
            del self._records[key]
