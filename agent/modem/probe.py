"""Finding modems: which serial ports answer AT, and who is behind them.

A light touch on purpose: `identify()` sends only harmless queries (no ATZ, no
AT+CNMI), so listing ports never disturbs a modem another program is using.
"""

from __future__ import annotations

import asyncio
import glob

import msgspec
from serial.tools import list_ports

from .at import Unsolicited
from .at_session import ATSession, CommandTimeout
from .link import PortLost
from .profiles import profile_for
from .status import (
    REGISTRATION,
    identity_digits,
    parse_csq,
    parse_registration,
    rssi_bars,
    rssi_dbm,
    strip_prefix,
)


class PortInfo(msgspec.Struct, kw_only=True):
    device: str
    answers: bool = False
    usb_vendor: str | None = None  # "12d1" (hex vid) and the USB product strings
    usb_product: str | None = None
    usb_serial: str | None = None
    usb_interface: str | None = None
    description: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    imei: str | None = None
    signal_dbm: int | None = None
    signal_bars: int | None = None
    registration: str | None = None
    family: str | None = None  # the modem profile recognised (agent/modem/profiles.py)
    error: str | None = None


def serial_ports(extra: list[str] | None = None) -> list[PortInfo]:
    """Serial ports the system knows (USB, ACM, built-in) plus udev's stable names."""
    ports: dict[str, PortInfo] = {}
    for port in list_ports.comports():
        ports[port.device] = PortInfo(
            device=port.device,
            usb_vendor=f"{port.vid:04x}" if port.vid is not None else None,
            usb_product=f"{port.pid:04x}" if port.pid is not None else None,
            usb_serial=port.serial_number,
            usb_interface=port.interface,
            description=port.description if port.description != "n/a" else None,
        )
    for path in sorted(glob.glob("/dev/gsmmodem*")) + (extra or []):
        ports.setdefault(path, PortInfo(device=path))
    return list(ports.values())


async def identify(info: PortInfo, baudrate: int = 115200, timeout: float = 1.0) -> PortInfo:
    """Ask the port AT; when it answers, fill in identity, signal and registration."""
    session = ATSession(info.device, baudrate, _ignore, _ignore)
    try:
        session.open()
    except PortLost as exc:
        return msgspec.structs.replace(info, error=str(exc))
    try:
        for _ in range(2):  # the first AT may only wake it (docs/at-modem.md §2 step 1)
            try:
                if (await session.command("AT", timeout)).ok:
                    break
            except CommandTimeout:
                continue
        else:
            return msgspec.structs.replace(info, error="no answer to AT")

        async def line(command: str) -> str | None:
            try:
                response = await session.command(command, timeout)
            except CommandTimeout:
                return None
            return response.lines[0] if response.ok and response.lines else None

        rssi = parse_csq(await line("AT+CSQ") or "")
        stat = parse_registration(await line("AT+CREG?") or "")
        manufacturer = strip_prefix(await line("AT+CGMI") or "") or None
        model = strip_prefix(await line("AT+CGMM") or "") or None
        return msgspec.structs.replace(
            info,
            answers=True,
            manufacturer=manufacturer,
            model=model,
            family=profile_for(manufacturer, model).name,
            imei=identity_digits(await line("AT+CGSN") or ""),
            signal_dbm=rssi_dbm(rssi) if rssi is not None else None,
            signal_bars=rssi_bars(rssi),
            registration=REGISTRATION.get(stat) if stat is not None else None,
        )
    except PortLost as exc:
        return msgspec.structs.replace(info, error=str(exc))
    finally:
        session.close()


def _ignore(_: Unsolicited | Exception) -> None:
    return None


async def identify_all(ports: list[PortInfo], timeout: float = 1.0) -> list[PortInfo]:
    """All ports at once: one slow port does not make the list slow."""
    return list(await asyncio.gather(*(identify(p, timeout=timeout) for p in ports)))
