"""Token buckets: `rate` tokens a second, up to `burst` saved. Pure: the caller passes the
time (time.monotonic()). Used to pace one agent connection's frames (agents/endpoint.py)
and the unauthenticated smsbrana push per client and per account (api/gateways.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_KEYS = 10_000  # bounded memory under a spray of client addresses


@dataclass
class Bucket:
    rate: float
    burst: float
    tokens: float | None = None  # None: full on first use (below 0: owed)
    at: float = 0.0

    def take(self, now: float) -> float:
        """Take one token; the seconds to wait before it was due (0: at once). A caller
        that must not be served late refuses when this is over 0 (see `allow`)."""
        if self.tokens is None:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def allow(self, now: float) -> bool:
        """Take one token if there is one; False (nothing taken) when there is none."""
        if self.take(now) > 0:
            self.tokens += 1  # type: ignore[operator]
            return False
        return True


@dataclass
class Limiter:
    """One bucket per key (a client address, an account)."""

    rate: float
    burst: float
    _buckets: dict[str, Bucket] = field(default_factory=dict)

    def allow(self, key: str, now: float) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._forget_full(now)
            bucket = self._buckets[key] = Bucket(self.rate, self.burst)
        return bucket.allow(now)

    def _forget_full(self, now: float) -> None:
        # A bucket that has refilled is the same as a new one.
        refill = self.burst / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.at >= refill]:
            del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:
            self._buckets.clear()
