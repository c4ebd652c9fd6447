"""The serial port under asyncio: pyserial opens and configures it, the event loop
watches its file descriptor (no thread per port, so many modems cost nothing)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import termios
from collections.abc import Callable

import serial

from agent.errors import AgentError


class PortLost(AgentError, ConnectionError):
    """The device went away (USB unplugged) or failed: close, reopen later."""


class SerialLink:
    def __init__(
        self,
        device: str,
        baudrate: int,
        on_data: Callable[[bytes], None],
        on_lost: Callable[[Exception], None],
    ) -> None:
        self.device = device
        self.baudrate = baudrate
        self._on_data = on_data
        self._on_lost = on_lost
        self._serial: serial.Serial | None = None
        self._fd: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def open(self) -> None:
        """Open and start reading. Raises PortLost when the device is not there."""
        try:
            port = serial.Serial(
                self.device,
                self.baudrate,
                timeout=0,
                write_timeout=5,
                rtscts=False,
                exclusive=True,  # two agents on one modem corrupt each other's commands
            )
        except (serial.SerialException, OSError, ValueError, termios.error) as exc:
            # termios.error (not an OSError): pyserial's tcsetattr/tcflush on a device
            # that vanished while it was being configured.
            raise PortLost(f"cannot open {self.device}: {exc}") from exc
        try:
            port.reset_input_buffer()  # bytes from before we came are answers to nobody
        except (serial.SerialException, OSError, termios.error) as exc:
            with contextlib.suppress(serial.SerialException, OSError, termios.error):
                port.close()
            raise PortLost(f"cannot open {self.device}: gone while opening: {exc}") from exc
        self._serial = port
        self._fd = port.fileno()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._fd, self._readable)

    def _readable(self) -> None:
        assert self._fd is not None
        try:
            data = os.read(self._fd, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:  # EIO after the USB device (or the pty) disappeared
            self._lost(PortLost(f"{self.device}: {exc.strerror or exc}"))
            return
        if not data:
            self._lost(PortLost(f"{self.device}: end of file (device gone)"))
            return
        self._on_data(data)

    def _lost(self, exc: Exception) -> None:
        self.close()
        self._on_lost(exc)

    def write(self, data: bytes) -> None:
        if self._serial is None:
            raise PortLost(f"{self.device} is not open")
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError) as exc:
            error = PortLost(f"{self.device}: write failed: {exc}")
            self._lost(error)
            raise error from exc

    def close(self) -> None:
        if self._loop is not None and self._fd is not None:
            self._loop.remove_reader(self._fd)
        if self._serial is not None:
            # Closing a vanished device can fail; it is closed either way.
            with contextlib.suppress(serial.SerialException, OSError):
                self._serial.close()
        self._serial = self._fd = self._loop = None
