"""The two rungs of the recovery ladder that act on the modem (agent/modem/ladder.py
decides when): the functional reset over the AT session, and the USB re-bind in sysfs.
Each returns a phrase for the line's status and whether the modem was acted upon.
The caller holds the driver's send lock, so no rung runs while a send waits."""

from __future__ import annotations

import asyncio
from datetime import datetime

from .at import ESC
from .at_session import ATSession, CommandTimeout
from .link import PortLost
from .usb import USBRebindError, authorize, deauthorize, usb_device_of


async def functional_reset(
    session: ATSession, command: str, timeout: float, wall: datetime
) -> tuple[str, bool]:
    """`command` (AT+CFUN=1,1 or the family's) on a port opened for it; the port is
    closed after, as the modem leaves the bus and comes back as a new device."""
    when = wall.strftime("%H:%M:%S")
    try:
        if not session.link.is_open:
            session.open()
    except PortLost as exc:
        return f"{command} at {when} not possible ({exc})", False
    try:
        session.link.write(ESC)  # out of an SMS-edit state first
        response = await session.command(command, timeout)
    except (CommandTimeout, PortLost) as exc:
        return f"{command} at {when}: {exc}", True  # written: it may have acted
    finally:
        session.close()
    answer = "OK" if response.ok else response.final.describe()
    return f"{command} at {when} ({answer})", True


async def usb_rebind(
    session: ATSession, device: str, sysfs: str, settle: float, wall: datetime
) -> tuple[str, bool]:
    """`authorized` 0, a pause for the kernel to drop the device, then 1."""
    when = wall.strftime("%H:%M:%S")
    usb = usb_device_of(device, sysfs)
    if usb is None:
        return f"no USB re-bind ({device} is not a USB device)", False
    session.close()
    try:
        deauthorize(usb)
        await asyncio.sleep(settle)  # a hardware settle time, not a wait for an event
        authorize(usb)
    except USBRebindError as exc:
        return f"USB re-bind at {when} failed: {exc}", False
    return f"USB re-bind of {usb.name} at {when}", True
