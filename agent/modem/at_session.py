"""One AT conversation over a SerialLink: a command at a time, each with its timeout.

The AT engine parses; this layer waits. URCs go to a callback as they arrive, even
while a command is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import msgspec

from agent.errors import AgentError

from .at import ATEngine, Discarded, Event, Final, Info, Prompt, Unsolicited
from .error_codes import ErrorInfo
from .link import PortLost, SerialLink

log = logging.getLogger(__name__)


class Response(msgspec.Struct, frozen=True):
    lines: list[str]
    final: Final

    @property
    def ok(self) -> bool:
        return self.final.ok

    @property
    def error(self) -> ErrorInfo | None:
        return self.final.error


class CommandTimeout(AgentError, TimeoutError):
    """The modem did not finish a command in time (hung, or the wrong port)."""


class SubmitUnknown(AgentError, TimeoutError):
    """No result after the PDU and Ctrl-Z: the SMS may or may not have been sent."""


async def _wait(future: asyncio.Future[Final], timeout: float) -> Final:
    """The future's result, or TimeoutError after `timeout` seconds (the future is left
    as it is). Not asyncio.wait_for: on Python 3.11 it swallows a cancellation that
    comes in the same turn as the result, and the cancelled send goes on."""
    done, _ = await asyncio.wait({future}, timeout=timeout)
    if not done:
        raise TimeoutError
    return future.result()


def _retrieve(future: asyncio.Future[object]) -> None:
    if not future.cancelled():
        future.exception()


class ATSession:
    def __init__(
        self,
        device: str,
        baudrate: int,
        on_urc: Callable[[Unsolicited], None],
        on_lost: Callable[[Exception], None],
    ) -> None:
        self.device = device
        self.engine = ATEngine()
        self.link = SerialLink(device, baudrate, self._data, self._lost)
        self._on_urc = on_urc
        self._on_lost = on_lost
        self._lock = asyncio.Lock()
        self._lines: list[str] = []
        self._final: asyncio.Future[Final] | None = None
        self._prompt: asyncio.Future[None] | None = None
        self.last_tx: bytes = b""  # for the benchmark and the log
        self.on_write: Callable[[bytes], None] | None = None

    def open(self) -> None:
        self.engine = ATEngine()
        self.link.open()

    def close(self) -> None:
        self.link.close()
        self._fail(PortLost(f"{self.device}: closed"))

    # --- I/O callbacks ----------------------------------------------------------------

    def _data(self, data: bytes) -> None:
        for event in self.engine.receive_data(data):
            self._event(event)

    def _event(self, event: Event) -> None:
        if isinstance(event, Info):
            self._lines.append(event.line)
        elif isinstance(event, Final):
            if self._final is not None and not self._final.done():
                self._final.set_result(event)
        elif isinstance(event, Prompt):
            if self._prompt is not None and not self._prompt.done():
                self._prompt.set_result(None)
        elif isinstance(event, Unsolicited):
            try:
                self._on_urc(event)
            except Exception:
                # Raised into the event loop it would drop the rest of this read,
                # a command's final with it (a +CMGS would then look lost).
                log.exception("%s: handling %r failed", self.device, event.line)
        elif isinstance(event, Discarded):
            log.debug("%s: ignored %r (%s)", self.device, event.line, event.reason)

    def _lost(self, exc: Exception) -> None:
        self._fail(exc)
        self._on_lost(exc)

    def _fail(self, exc: Exception) -> None:
        for future in (self._final, self._prompt):
            if future is not None and not future.done():
                future.set_exception(exc)
                # The waiter may be gone (a prompt future after an early error): the
                # exception is then expected, not "never retrieved".
                future.add_done_callback(_retrieve)

    def _write(self, data: bytes) -> None:
        try:
            self.link.write(data)
        except PortLost:
            self.engine.expire()  # the command never left: nothing is in flight
            raise
        self.last_tx = data
        if self.on_write is not None:
            self.on_write(data)

    # --- commands -------------------------------------------------------------------

    async def command(self, command: str, timeout: float = 5.0) -> Response:
        async with self._lock:
            return await self._command(command, timeout)

    async def _command(self, command: str, timeout: float) -> Response:
        loop = asyncio.get_running_loop()
        self._lines = []
        self._final = loop.create_future()
        self._write(self.engine.send(command))
        try:
            final = await _wait(self._final, timeout)
        except TimeoutError:
            expired = self.engine.expire()
            if expired is None:
                raise CommandTimeout(
                    f"modem on {self.device}: no answer to {command} within {timeout:g} s"
                ) from None
            final = expired  # an answer without OK that some modems give (Wavecom CPIN)
        finally:
            self._final = None
            if self.engine.pending is not None:
                self.engine.expire()  # ended by an exception: nothing is in flight now
        return Response(self._lines, final)

    async def submit(
        self,
        length: int,
        pdu: str,
        prompt_timeout: float,
        result_timeout: float,
        ready: Callable[[], bool] | None = None,
    ) -> Response:
        """AT+CMGS=<length>, the PDU after the prompt. Raises CommandTimeout when no
        prompt came (nothing was sent) and SubmitUnknown when no result came after
        Ctrl-Z (the SMS may have left: never resend it blindly). `ready` is asked once
        the port is ours: when false, PortLost and nothing is written (the port may be
        a reopened one whose init is still running)."""
        async with self._lock:
            if ready is not None and not ready():
                raise PortLost(f"{self.device}: not ready (reconnecting)")
            loop = asyncio.get_running_loop()
            self._lines = []
            self._final = loop.create_future()
            self._prompt = loop.create_future()
            self._write(self.engine.send(f"AT+CMGS={length}"))
            try:
                done, _ = await asyncio.wait(
                    {self._final, self._prompt},
                    timeout=prompt_timeout,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if self._final in done:  # an error instead of the prompt
                    return Response(self._lines, self._final.result())
                if not done:
                    await self._escape()
                    raise CommandTimeout(
                        f"modem on {self.device}: no '> ' prompt within {prompt_timeout:g} s"
                    )
                self._prompt.result()  # raises PortLost if the port vanished
                self._write(self.engine.send_pdu(pdu))
                try:
                    final = await _wait(self._final, result_timeout)
                except TimeoutError:
                    await self._escape()
                    raise SubmitUnknown(
                        f"modem on {self.device}: no +CMGS result within {result_timeout:g} s "
                        "after the PDU; the SMS may have been sent"
                    ) from None
                except PortLost as exc:
                    raise SubmitUnknown(
                        f"modem on {self.device}: port lost after the PDU ({exc}); "
                        "the SMS may have been sent"
                    ) from exc
                return Response(self._lines, final)
            finally:
                self._final = self._prompt = None
                if self.engine.pending is not None:
                    self.engine.expire()

    async def _escape(self) -> None:
        """Leave the SMS-edit state and forget the command, so the port is usable."""
        self.engine.expire()
        with contextlib.suppress(PortLost):
            self._write(self.engine.abort())
