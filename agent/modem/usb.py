"""Re-binding a USB modem through sysfs: the last automatic rung of the recovery ladder.

A tty's sysfs entry (/sys/class/tty/ttyUSB2/device) leads, up the device tree, to the
USB interface and then to the USB device (the directory with `idVendor`). Writing 0
and then 1 to that device's `authorized` file makes the kernel drop and re-probe it,
as if it were unplugged and plugged in again (Documentation/usb/authorization.rst).
Writing needs root or a udev rule that hands the file to the agent's user (see
udev/README.md and docs/modem.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from agent.errors import AgentError


class USBRebindError(AgentError, OSError):
    """Not possible here; the message says why (no USB device, no permission)."""


def usb_device_of(device: str, sysfs: str = "/sys") -> Path | None:
    """The sysfs directory of the USB device behind a tty path (a udev link such as
    /dev/gsmmodem0 is followed), or None when the tty is not on USB (a pty, ttyS0)."""
    name = os.path.basename(os.path.realpath(device))
    entry = Path(sysfs, "class", "tty", name, "device")
    if not entry.exists():
        return None
    node = entry.resolve()
    root = Path(sysfs).resolve()
    while node != root and root in node.parents:
        if (node / "idVendor").exists() and (node / "authorized").exists():
            return node
        node = node.parent
    return None


def deauthorize(usb: Path) -> None:
    _write(usb / "authorized", "0")


def authorize(usb: Path) -> None:
    _write(usb / "authorized", "1")


def _write(path: Path, value: str) -> None:
    try:
        path.write_text(value)
    except PermissionError as exc:
        raise USBRebindError(
            f"cannot write {path}: permission denied (the udev rule in udev/ gives it "
            "to the agent's user)"
        ) from exc
    except OSError as exc:
        raise USBRebindError(f"cannot write {path}: {exc.strerror or exc}") from exc
