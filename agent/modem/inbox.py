"""Incoming messages and status reports of one modem (docs/at-modem.md §6, §8).

Read, hand on, and delete only after the callback returned: a crash in between gives
a duplicate on the next sweep, never a loss. Routed +CMT/+CDS cannot be re-read, so
they are handed on at once.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable

from agent.errors import AgentError

from .at import Unsolicited, split_args
from .at_session import Response
from .error_codes import ErrorClass
from .interface import DeliveryReport, IncomingSMS, OnMessage, OnReport
from .pdu import Deliver, PDUError, StatusReport, decode

log = logging.getLogger(__name__)

Command = Callable[[str], Awaitable[Response]]
_RECENT = 512


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


class MemoryRefused(AgentError):
    """AT+CPMS refused the memory a URC or a sweep named."""


class SentRef:
    __slots__ = ("message_id", "part", "recipient", "time")

    def __init__(self, recipient: str, message_id: str | None, part: int) -> None:
        self.recipient = recipient
        self.message_id = message_id
        self.part = part
        self.time = time.monotonic()


def incoming_of(message: Deliver, pdu: str, memory: str | None, index: int | None) -> IncomingSMS:
    concat = message.concat
    return IncomingSMS(
        sender=message.sender,
        text=message.text,
        timestamp=message.timestamp,
        smsc=message.smsc,
        pdu=pdu,
        concat_reference=concat.reference if concat else None,
        concat_total=concat.total if concat else None,
        concat_sequence=concat.sequence if concat else None,
        concat_bits=concat.bits if concat else None,
        memory=memory,
        index=index,
    )


class Inbox:
    def __init__(
        self,
        device: str,
        on_message: OnMessage | None,
        on_report: OnReport | None,
        sends_settled: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.device = device
        # A report can arrive in the same read as the +CMGS it reports on, before the
        # sender has recorded the MR: match only once no send is half-way through.
        self.sends_settled = sends_settled
        self.on_message = on_message
        self.on_report = on_report
        self._sent: dict[int, list[SentRef]] = {}  # MR -> recent parts with that MR
        self._lock = asyncio.Lock()  # one read-and-delete at a time
        self.read_memory = "SM"
        # Messages handed on lately, oldest first: a re-read after a failed delete is
        # recognised by (sender, SCTS, text, concat) and not handed on twice.
        self._recent: dict[tuple[object, ...], None] = {}

    # --- status-report matching ------------------------------------------------------

    def remember(self, mr: int, recipient: str, message_id: str | None, part: int) -> None:
        refs = self._sent.setdefault(mr, [])
        refs.append(SentRef(recipient, message_id, part))
        del refs[:-4]  # MRs wrap at 256; only the latest few sends per MR can match

    def match(self, report: StatusReport) -> DeliveryReport:
        refs = self._sent.get(report.reference, [])
        wanted = _digits(report.recipient)
        found = next(
            (r for r in reversed(refs) if _digits(r.recipient).endswith(wanted[-9:])), None
        )
        if found is not None and report.final:
            refs.remove(found)
        return DeliveryReport(
            mr=report.reference,
            recipient=report.recipient,
            status=report.status,
            meaning=report.meaning,
            delivered=report.delivered,
            final=report.final,
            discharge_time=report.discharge_time,
            message_id=found.message_id if found else None,
            part=found.part if found else None,
        )

    # --- hand-over -------------------------------------------------------------------

    async def _hand_on(self, pdu: str, memory: str | None, index: int | None) -> bool:
        """Decode and give to the callback; True when it may now be deleted."""
        try:
            message = decode(pdu, has_smsc=None)
        except PDUError as exc:
            log.warning("%s: undecodable PDU at %s/%s kept: %s", self.device, memory, index, exc)
            return False
        if isinstance(message, Deliver):
            if self.on_message is None:
                return False
            key = (message.sender, message.timestamp, message.text, message.concat)
            if key in self._recent:
                # Handed on before, but its delete failed (port lost): docs/at-modem.md §6.2 dedup.
                log.info("%s: %s/%s already handed on; deleting", self.device, memory, index)
                return True
            await self.on_message(incoming_of(message, pdu, memory, index))
            self._recent[key] = None
            while len(self._recent) > _RECENT:
                del self._recent[next(iter(self._recent))]
            return True
        if isinstance(message, StatusReport):
            if self.on_report is not None:
                if self.sends_settled is not None:
                    await self.sends_settled()
                await self.on_report(self.match(message))
            return True
        return False  # a stored SUBMIT (STO SENT/UNSENT): not ours to delete

    async def routed(self, urc: Unsolicited) -> None:
        """+CMT / +CDS: the PDU came with the URC; nothing stored to delete."""
        if urc.pdu:
            await self._hand_on(urc.pdu, None, None)

    async def stored(self, command: Command, urc: Unsolicited) -> None:
        """+CMTI / +CDSI: read the slot, hand it on, delete it."""
        args = urc.args
        if len(args) < 2 or not (args[1].strip().isascii() and args[1].strip().isdigit()):
            log.warning("%s: malformed %s", self.device, urc.line)
            return
        await self.read(command, args[0] or "SM", int(args[1]))

    async def read(self, command: Command, memory: str, index: int) -> None:
        async with self._lock:
            try:
                switched = await self._use_memory(command, memory)
            except MemoryRefused as exc:
                log.warning("%s; left for the next sweep", exc)
                return
            try:
                response = await command(f"AT+CMGR={index}")
                if not response.ok:
                    error = response.error
                    if error is None or error.error_class is not ErrorClass.EMPTY:
                        log.warning("%s: AT+CMGR=%d: %s", self.device, index, response.final)
                    return
                pdus = [line for line in response.lines if not line.upper().startswith("+CMGR")]
                if pdus and await self._hand_on(pdus[0], memory, index):
                    await command(f"AT+CMGD={index}")
            finally:
                if switched:
                    await self._use_memory(command, "SM")

    async def sweep(self, command: Command, memory: str = "SM") -> int:
        """AT+CMGL=4: everything stored; returns how many were handed on."""
        async with self._lock:
            try:
                switched = await self._use_memory(command, memory)
            except MemoryRefused as exc:
                log.info("%s; not swept", exc)
                return 0
            try:
                response = await command("AT+CMGL=4")
                handed = 0
                lines = response.lines if response.ok else []
                for header, pdu in itertools.pairwise(lines):
                    if not header.upper().startswith("+CMGL:"):
                        continue
                    args = split_args(header.split(":", 1)[1])
                    if not args or not (args[0].isascii() and args[0].isdigit()):
                        continue
                    index = int(args[0])
                    if await self._hand_on(pdu, memory, index):
                        handed += 1
                        await command(f"AT+CMGD={index}")
                return handed
            finally:
                if switched:
                    await self._use_memory(command, "SM")

    async def _use_memory(self, command: Command, memory: str) -> bool:
        """Select `memory` for reading; True when it had to switch. Raises
        MemoryRefused when the modem has no such memory (then nothing is read:
        reading the current one instead would hand on the wrong slot)."""
        if memory.upper() == self.read_memory:
            return False
        response = await command(f'AT+CPMS="{memory.upper()}"')
        if not response.ok:
            raise MemoryRefused(f"{self.device}: memory {memory}: {response.final.describe()}")
        self.read_memory = memory.upper()
        return True
