"""A modem line's care on the agents page (issue 17): recovery, resets, balance and a
small SVG chart of the last 24 h of signal, drawn on the server (no script)."""

from __future__ import annotations

from typing import Any

# LineStatus fields this include shows (kept out of the page's "other" list).
CARE_FIELDS = {
    "rung",
    "recovery",
    "last_reset",
    "resets_today",
    "balance",
    "balance_at",
    "balance_low",
    "signal_history",
}
WIDTH, HEIGHT = 288, 48  # one pixel per 5 minutes of a day
DBM_LOW, DBM_HIGH = -113, -51  # the +CSQ scale (0 and 31)


def _y(dbm: int) -> float:
    clamped = min(max(dbm, DBM_LOW), DBM_HIGH)
    return round(HEIGHT - (clamped - DBM_LOW) * HEIGHT / (DBM_HIGH - DBM_LOW), 1)


def signal_chart(history: dict[str, Any] | None) -> dict[str, Any] | None:
    """Polylines (one per stretch without gaps) and red marks where registration was
    lost, for a SignalHistory as the API gives it."""
    if not history or not history.get("dbm"):
        return None
    values: list[int | None] = history["dbm"]
    letters: str = history.get("registration", "")
    step = WIDTH / max(len(values) - 1, 1)
    lines: list[str] = []
    current: list[str] = []
    lost: list[float] = []
    for i, value in enumerate(values):
        x = round(i * step, 1)
        if i < len(letters) and letters[i] in "sdn":
            lost.append(x)
        if value is None:
            if current:
                lines.append(" ".join(current))
            current = []
            continue
        current.append(f"{x},{_y(value)}")
    if current:
        lines.append(" ".join(current))
    measured = [v for v in values if v is not None]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "lines": lines,
        "lost": lost,
        "start": history["start"][:16].replace("T", " "),
        "low": min(measured) if measured else None,
        "high": max(measured) if measured else None,
    }


def care_view(status: dict[str, Any]) -> dict[str, Any]:
    return {"chart": signal_chart(status.get("signal_history"))}
