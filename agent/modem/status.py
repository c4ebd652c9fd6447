"""Parsing the answers of status queries (docs/at-modem.md §7) and judging a modem's health. Pure.

signal(parse_csq("+CSQ: 18,99"))  -> Signal(rssi=18, dbm=-77, bars=3)
registration("+CREG: 2,1,4CA,81DE445") -> 1
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable

import msgspec

from .at import split_args


class ModemStatus(msgspec.Struct, kw_only=True):
    device: str
    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None
    imei: str | None = None
    imsi: str | None = None
    sim: str | None = None  # READY, SIM PIN, SIM PUK, ... or "not inserted"
    registration: int | None = None  # 27.007 stat (best of CREG/CGREG/CEREG)
    registration_text: str | None = None
    operator: str | None = None
    rssi: int | None = None
    signal_dbm: int | None = None
    signal_bars: int | None = None  # 0-5
    signal_text: str | None = None
    smsc: str | None = None
    storage: str | None = None
    storage_used: int | None = None
    storage_total: int | None = None
    family: str | None = None  # the modem profile recognised (agent/modem/profiles.py)
    problems: list[str] = []

    @property
    def healthy(self) -> bool:
        return not self.problems


REGISTRATION = {
    0: "not registered, not searching",
    1: "registered, home network",
    2: "not registered, searching",
    3: "registration denied",
    4: "unknown (out of coverage?)",
    5: "registered, roaming",
    6: "registered for SMS only, home",
    7: "registered for SMS only, roaming",
    8: "emergency services only",
    9: "registered (CSFB not preferred), home",
    10: "registered (CSFB not preferred), roaming",
}
REGISTERED = frozenset({1, 5, 6, 7, 9, 10})

_DIGITS = re.compile(r"\d{14,17}")


def strip_prefix(line: str) -> str:
    """`+CGMI: "huawei"` -> `huawei` (docs/at-modem.md §7.5: optional prefix, quotes, spaces)."""
    value = re.sub(r"^\+?[A-Z]{3,5}:\s*", "", line.strip(), flags=re.IGNORECASE)
    return value.strip().strip('"').strip()


def identity_digits(line: str) -> str | None:
    """IMEI/IMSI: the first run of 14–17 digits (some modems quote or prefix it)."""
    match = _DIGITS.search(line)
    return match.group(0) if match else None


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None  # not '²'


def parse_csq(line: str) -> int | None:
    """rssi of `+CSQ: <rssi>,<ber>`; None when unknown (99) or unreadable."""
    args = split_args(line.split(":", 1)[-1])
    rssi = _int(args[0]) if args else None
    return None if rssi is None or rssi == 99 or rssi > 31 else rssi


def rssi_dbm(rssi: int) -> int:
    return -113 + 2 * rssi  # 0 -> -113 or less, 31 -> -51 or more


def rssi_bars(rssi: int | None) -> int:
    """0–5 bars, the way phones show it, from smsd's dBm bands (docs/at-modem.md §7.1)."""
    if rssi is None:
        return 0
    dbm = rssi_dbm(rssi)
    for bars, floor in ((5, -65), (4, -75), (3, -85), (2, -95), (1, -105)):
        if dbm >= floor:
            return bars
    return 0


def signal_text(rssi: int | None) -> str:
    if rssi is None:
        return "unknown"
    dbm = rssi_dbm(rssi)
    if dbm <= -95:
        return "marginal"
    if dbm <= -85:
        return "workable"
    if dbm <= -75:
        return "good"
    return "excellent"


def parse_registration(line: str, query: bool = True) -> int | None:
    """<stat> of a +CREG/+CGREG/+CEREG line: the second field of a query answer, the
    first of a URC. Never fails on the rest (broken quotes, missing LAC)."""
    args = split_args(line.split(":", 1)[-1])
    index = 1 if query else 0
    return _int(args[index]) if len(args) > index else None


def best_registration(stats: list[int | None]) -> int | None:
    """On LTE-only modems +CREG may say 0 while +CEREG says 1: take any registered."""
    known = [s for s in stats if s is not None]
    for stat in known:
        if stat in REGISTERED:
            return stat
    return known[0] if known else None


def parse_cops(line: str) -> str | None:
    args = split_args(line.split(":", 1)[-1])
    return args[2] or None if len(args) >= 3 else None


def parse_csca(line: str) -> str | None:
    args = split_args(line.split(":", 1)[-1])
    if not args or not args[0]:
        return None
    number = args[0]
    # Under AT+CSCS="UCS2" the number comes as hex UTF-16 (gammu tests/at-smsc).
    if len(number) % 4 == 0 and len(number) >= 8 and re.fullmatch(r"[0-9A-Fa-f]+", number):
        with contextlib.suppress(UnicodeDecodeError):
            number = bytes.fromhex(number).decode("utf-16-be")
    return number


def parse_cpms(line: str) -> tuple[str | None, int | None, int | None]:
    """(memory, used, total) of the first slot of `+CPMS?` (or of an AT+CPMS= answer)."""
    args = split_args(line.split(":", 1)[-1])
    if len(args) >= 3 and not args[0].isdigit():
        return args[0], _int(args[1]), _int(args[2])
    if len(args) >= 2:
        return None, _int(args[0]), _int(args[1])
    return None, None, None


def parse_cpin(line: str) -> str:
    return strip_prefix(line).upper()


def judge(status: ModemStatus) -> list[str]:
    """What is wrong, in plain words, for `sms-agent probe` and the server's UI."""
    problems: list[str] = []
    if status.sim is None and status.imei is None:
        problems.append("the modem does not answer status queries")
    if status.sim and status.sim != "READY":
        if status.sim == "SIM PIN":
            problems.append("SIM PIN required (set 'pin' in the account)")
        elif "NOT INSERTED" in status.sim:
            problems.append("no SIM card inserted")
        elif "PUK" in status.sim:
            problems.append(f"{status.sim} required: unlock the SIM in a phone")
        else:
            problems.append(f"SIM: {status.sim}")
    if status.registration is not None and status.registration not in REGISTERED:
        problems.append(f"not registered: {REGISTRATION.get(status.registration, 'unknown')}")
    if status.rssi is None and status.sim == "READY":
        problems.append("no signal reading (antenna?)")
    elif status.rssi is not None and rssi_dbm(status.rssi) <= -105:
        problems.append(f"very weak signal ({rssi_dbm(status.rssi)} dBm): move the antenna")
    full = status.storage_total and (status.storage_used or 0) >= status.storage_total
    if full:
        problems.append("SMS storage full: incoming messages are being refused")
    return problems


async def query_status(device: str, ask: Callable[[str], Awaitable[str | None]]) -> ModemStatus:
    """Ask the queries of docs/at-modem.md §7 through `ask` (the answer line or None) and
    judge them."""
    cpin = await ask("AT+CPIN?")
    rssi = parse_csq(await ask("AT+CSQ") or "")
    registrations = [await ask(c) for c in ("AT+CREG?", "AT+CGREG?", "AT+CEREG?")]
    memory, used, total = parse_cpms(await ask("AT+CPMS?") or "")
    stat = best_registration([parse_registration(r) for r in registrations if r])
    status = ModemStatus(
        device=device,
        manufacturer=strip_prefix(await ask("AT+CGMI") or "") or None,
        model=strip_prefix(await ask("AT+CGMM") or "") or None,
        firmware=strip_prefix(await ask("AT+CGMR") or "") or None,
        imei=identity_digits(await ask("AT+CGSN") or ""),
        imsi=identity_digits(await ask("AT+CIMI") or ""),
        sim=parse_cpin(cpin) if cpin else None,
        registration=stat,
        registration_text=REGISTRATION.get(stat, "unknown") if stat is not None else None,
        operator=parse_cops(await ask("AT+COPS?") or ""),
        rssi=rssi,
        signal_dbm=rssi_dbm(rssi) if rssi is not None else None,
        signal_bars=rssi_bars(rssi),
        signal_text=signal_text(rssi),
        smsc=parse_csca(await ask("AT+CSCA?") or ""),
        storage=memory,
        storage_used=used,
        storage_total=total,
    )
    status.problems = judge(status)
    return status
