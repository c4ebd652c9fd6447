"""The virtual modem on a pseudo-terminal: a serial device any program can open.

    with VirtualModem(VirtualConfig(pin="1234")) as modem:
        print(modem.path)                 # /dev/pts/7, or the stable link you asked for
        modem.deliver("+420777123456", "Ahoj")
        modem.unplug(); modem.replug()    # the device disappears and comes back

A thread serves the pty so that blocking peers (libgammu, smsd) and asyncio code
can both talk to it; tests wait on `wait_for()` instead of sleeping.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import select
import threading
import time
import tty
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import TypeVar

import msgspec

from .virtual_core import Output, Submission, VirtualConfig, VirtualModemCore

T = TypeVar("T")


class LogEntry(msgspec.Struct, frozen=True):
    time: float  # time.monotonic()
    direction: str  # "rx" (from the program to the modem) or "tx"
    data: bytes


class VirtualModem:
    def __init__(self, config: VirtualConfig | None = None, link: str | None = None) -> None:
        self.config = config or VirtualConfig()
        self.link = link  # a stable path (like udev's /dev/gsmmodem0) that follows replugs
        self.core = VirtualModemCore(self.config, time.monotonic)
        self.log: list[LogEntry] = []
        self._lock = threading.Condition()
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_name = ""
        # Bytes to write, or an action run at its time (a ring, a re-enumeration).
        self._queue: list[tuple[float, int, bytes | Callable[[], bytes]]] = []
        self._seq = 0
        self._last_due = 0.0
        self._wake_r, self._wake_w = os.pipe()
        self._stop = False
        self._thread: threading.Thread | None = None

    # --- life cycle -----------------------------------------------------------------

    @property
    def path(self) -> str:
        return self.link or self._slave_name

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def start(self) -> str:
        self._plug()
        self._thread = threading.Thread(target=self._serve, name="virtual-modem", daemon=True)
        self._thread.start()
        return self.path

    def stop(self) -> None:
        self._stop = True
        self._wake()
        if self._thread:
            self._thread.join(timeout=5)
        with self._lock:
            self._unplug_locked()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> VirtualModem:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _plug(self) -> None:
        master, slave = os.openpty()
        # Raw, no echo by the line discipline: the program that opens the slave gets
        # exactly the modem's bytes (pyserial sets raw too; smsd and libgammu do).
        tty.setraw(slave)
        os.set_blocking(master, False)
        with self._lock:
            self._master, self._slave = master, slave
            self._slave_name = os.ttyname(slave)
            self._queue.clear()
            if self.link:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.link)
                os.symlink(self._slave_name, self.link)
        self._wake()

    def unplug(self) -> None:
        """The USB cable is pulled: the device closes under whoever has it open."""
        with self._lock:
            self._unplug_locked()
        self._wake()

    def _unplug_locked(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        if self.link:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.link)

    def replug(self) -> str:
        """Plugged back in: a new device node, the modem rebooted (echo on, PIN again)."""
        with self._lock:
            self._unplug_locked()
            self.core.power_on()
        self._plug()
        self._booted()
        return self.path

    def _booted(self) -> None:
        with self._lock:
            self._schedule(self.core.boot_output())
        self._wake()

    def hang(self, mode: str = "sms") -> None:
        """The modem stops answering: "sms" (only AT/ATZ/ATE and the reset command),
        "total" (nothing until a reset or replug), "forever" (not even then)."""
        if mode not in ("sms", "total", "forever"):
            raise ValueError(f"hang mode {mode!r}: sms, total or forever")
        with self._lock:
            self.core.hung = mode
        self._wake()

    @property
    def resets(self) -> int:
        with self._lock:
            return self.core.resets

    def _reenumerate(self) -> bytes:
        """After the reset command's OK: the USB device goes away and comes back as a new
        device node (as a USB modem does after AT+CFUN=1,1), rebooted."""
        self._unplug_locked()
        self.core.power_on()
        self._push(time.monotonic() + self.config.reboot_seconds, self._come_back)
        return b""

    def _come_back(self) -> bytes:
        self._plug()
        self._schedule(self.core.boot_output())
        return b""

    # --- calls ----------------------------------------------------------------------

    def call(self, number: str, rings: int = 10, interval: float = 1.0) -> None:
        """An incoming voice call from `number`: RING (+CLIP/+CRING as set) every
        `interval` s until hung up (ATH/AT+CHUP) or `rings` went by (then NO CARRIER)."""
        with self._lock:
            now = time.monotonic()
            self.core.call_from = number
            for i in range(rings):
                self._push(now + i * interval, self.core.ring)
            self._push(now + rings * interval, self.core.caller_gave_up)
        self._wake()

    @property
    def calls_hung_up(self) -> list[str]:
        with self._lock:
            return list(self.core.calls_hung_up)

    @property
    def ussd_requests(self) -> list[str]:
        with self._lock:
            return list(self.core.ussd_requests)

    # --- the network's side ---------------------------------------------------------

    def deliver(self, sender: str, text: str, when: datetime | None = None) -> None:
        with self._lock:
            self._schedule(self.core.deliver(sender, text, when))
        self._wake()

    def deliver_pdu(self, pdu: str) -> None:
        with self._lock:
            self._schedule(self.core.deliver_pdu(pdu))
        self._wake()

    def send_raw(self, data: bytes) -> None:
        """Bytes as if the modem sent them on its own (a URC, boot noise)."""
        with self._lock:
            self._schedule([(0.0, data)])
        self._wake()

    @property
    def submissions(self) -> list[Submission]:
        with self._lock:
            return list(self.core.submissions)

    def wait_for(self, predicate: Callable[[VirtualModem], T], timeout: float = 5.0) -> T:
        """Block until predicate(self) is truthy (checked whenever the modem does
        something); raises TimeoutError with the log tail otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                result = predicate(self)
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = b"".join(e.data for e in self.log[-10:])
                    raise TimeoutError(f"virtual modem: condition not met; last bytes {tail!r}")
                self._lock.wait(left)

    # --- the thread -----------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _push(self, due: float, item: bytes | Callable[[], bytes]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (due, self._seq, item))

    def _schedule(self, outputs: list[Output]) -> None:
        now = time.monotonic()
        for delay, data in outputs:
            # Bytes leave in the order they were produced, a delay holds back what follows.
            due = max(now + delay, self._last_due)
            self._last_due = due
            self._seq += 1
            heapq.heappush(self._queue, (due, self._seq, data))

    def _serve(self) -> None:
        while not self._stop:
            with self._lock:
                master = self._master
                timeout = max(0.0, self._queue[0][0] - time.monotonic()) if self._queue else None
            fds = [self._wake_r] + ([master] if master is not None else [])
            try:
                readable, _, _ = select.select(fds, [], [], timeout)
            except (OSError, ValueError):
                continue  # the fd was closed by unplug() between lock and select
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            with self._lock:
                if master is not None and master in readable and master == self._master:
                    self._read_locked(master)
                self._flush_locked()
                self._lock.notify_all()

    def _read_locked(self, master: int) -> None:
        try:
            data = os.read(master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # EIO: nobody has the slave open (we keep it open, so rare)
        self.log.append(LogEntry(time.monotonic(), "rx", data))
        self._schedule(self.core.receive(data))
        if self.core.reboot_requested:
            self.core.reboot_requested = False
            # After the OK has left (same due time, later in the queue).
            self._push(max(time.monotonic(), self._last_due) + 0.2, self._reenumerate)

    def _flush_locked(self) -> None:
        now = time.monotonic()
        while self._queue and self._queue[0][0] <= now:
            _, _, item = heapq.heappop(self._queue)
            data = item() if callable(item) else item
            if not data:
                continue
            if self._master is None:
                continue  # unplugged: the bytes are lost, as on a real cable
            try:
                os.write(self._master, data)
            except OSError:
                continue
            self.log.append(LogEntry(time.monotonic(), "tx", data))
