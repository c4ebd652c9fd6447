"""The libgammu backend (python-gammu) behind the same Modem interface as the AT driver.

libgammu is blocking and its state machine is not thread-safe, so every call runs
on one worker thread per modem: calls are serialised per modem, modems run in
parallel, and the event loop never blocks. Incoming messages and status reports
are polled from storage (libgammu's URC callbacks need a pulling thread of their
own; polling is what smsd and gammu-smsd do as well).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sms.segment import Encoding, choose_encoding

from .error_codes import ErrorClass
from .gammu_messages import REGISTRATION_OF_STATE, incoming_of, report_of
from .interface import (
    DeliveryReport,
    ModemConfig,
    ModemError,
    OnCall,
    OnMessage,
    OnReport,
    Outcome,
    SendResult,
    SentPart,
)
from .status import REGISTRATION, ModemStatus, judge, rssi_bars, signal_text
from .ussd import USSDAnswer

log = logging.getLogger(__name__)
T = TypeVar("T")

# libgammu errors that mean the port is gone (unplugged) or dead: reopen it.
_DEVICE_GONE = frozenset(
    {
        "ERR_DEVICEWRITEERROR",
        "ERR_DEVICEREADERROR",
        "ERR_DEVICENOTEXIST",
        "ERR_DEVICEOPENERROR",
        "ERR_DEVICENOTWORK",
        "ERR_DEVICECHANGESPEEDERROR",
        "ERR_TIMEOUT",
    }
)
# ... and after which a submission may have left: the outcome is unknown, not failed
# (libgammu does not say whether the PDU was written before the error).
_UNKNOWN_AFTER_SUBMIT = _DEVICE_GONE


def _gammu() -> Any:
    try:
        import gammu
    except ImportError as exc:  # the `gammu` extra is optional
        raise ModemError(
            f"the gammu backend needs python-gammu (pip install 'smsbridge[gammu]'): {exc}"
        ) from exc
    return gammu


class GammuModem:
    # What the Modem protocol asks and libgammu does not do here: no recovery ladder (a
    # lost port is reopened, nothing is reset), no call handling, no USSD.
    can_ussd = False
    ladder = None

    def __init__(
        self,
        config: ModemConfig,
        *,
        connection: str = "at",
        model: str = "",
        on_message: OnMessage | None = None,
        on_report: OnReport | None = None,
    ) -> None:
        self.config = config
        self.device = config.device
        self.connection = connection
        self.model = model
        self.on_message = on_message
        self.on_report = on_report
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gammu")
        self._sm: Any = None
        self._sent: dict[int, tuple[str | None, int]] = {}  # MR -> (message id, part)
        self._poller: asyncio.Task[None] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._closing = False
        self.connected = asyncio.Event()
        # Called when `connected` is set or cleared (the line tells the server at once).
        self.on_connection: Callable[[], None] | None = None
        self._smsc: str | None = None
        self.last_error: str | None = None
        self.on_call: OnCall | None = None  # never called: libgammu's calls are not watched
        self.needs_person = asyncio.Event()  # never set: there is no ladder to run out

    async def _call(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: function(*args, **kwargs))

    def _error(self, what: str, exc: Exception) -> ModemError:
        info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
        text = info.get("Text", str(exc))
        return ModemError(f"modem on {self.device} (gammu): {what}: {text}", ErrorClass.TRANSIENT)

    # --- life cycle -----------------------------------------------------------------

    async def open(self) -> None:
        await self._connect()
        if self.config.poll_incoming:
            await self.sweep()
            self._poller = asyncio.create_task(self._poll())

    async def _connect(self) -> None:
        gammu = _gammu()

        def init() -> Any:
            sm = gammu.StateMachine()
            sm.SetConfig(
                0, {"Device": self.device, "Connection": self.connection, "Model": self.model}
            )
            sm.Init()
            return sm

        try:
            self._sm = await self._call(init)
        except gammu.GSMError as exc:
            raise self._error("cannot initialise", exc) from exc
        await self._unlock(gammu)
        # libgammu leaves AT+CNMI alone unless asked; without it a modem drops status
        # reports (<ds>=0). libgammu 1.45 answers NOTSUPPORTED here even for the CNMI
        # ranges of its own test suite, so this is best effort (see the report).
        with contextlib.suppress(gammu.GSMError):
            await self._call(self._sm.SetIncomingSMS, True)
        # libgammu reads the SMSC before each send when given {"Location": 1}; on a
        # vanished port that read fails as "No SMSC number given", which hides the
        # real error. Read it once here instead.
        self._smsc = self.config.smsc
        if not self._smsc:
            with contextlib.suppress(gammu.GSMError):
                self._smsc = (await self._call(self._sm.GetSMSC, Location=1)).get("Number")
        self.connected.set()
        self._connection_changed()
        self.last_error = None

    def _connection_changed(self) -> None:
        if self.on_connection is not None:
            self.on_connection()

    def _lost(self, exc: Exception) -> bool:
        """True (and a reconnect scheduled) when `exc` means the device is gone."""
        if type(exc).__name__ not in _DEVICE_GONE:
            return False
        self.connected.clear()
        self._connection_changed()
        self.last_error = str(self._error("device lost", exc))
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.create_task(self._reconnect())
        return True

    async def _check_alive(self) -> bool:
        """After an unexplained error: True (and a reconnect scheduled) if the modem
        no longer answers."""
        gammu = _gammu()
        if not os.path.exists(self.device):  # the USB device node went with the cable
            return self._lost(gammu.ERR_DEVICENOTEXIST({"Text": "device node gone"}))
        try:
            await self._call(self._sm.GetSignalQuality)
        except gammu.GSMError as exc:
            return self._lost(exc)
        return False

    async def _reconnect(self) -> None:
        delay = self.config.reconnect_min
        old, self._sm = self._sm, None
        if old is not None:
            with contextlib.suppress(Exception):
                await self._call(old.Terminate)
        while not self._closing:
            await asyncio.sleep(delay)  # backoff: a replugged USB modem needs time
            try:
                await self._connect()
                log.info("modem on %s (gammu): reconnected", self.device)
                return
            except ModemError as exc:
                self.last_error = str(exc)
                if "rejected the PIN" in str(exc):
                    return  # never try a wrong PIN again
                delay = min(delay * 2, self.config.reconnect_max)

    async def _unlock(self, gammu: Any) -> None:
        try:
            state = await self._call(self._sm.GetSecurityStatus)
        except gammu.GSMError as exc:
            raise self._error("cannot read the SIM state", exc) from exc
        if state in (None, "PIN2", "PUK2"):  # None: nothing needed
            return
        if state != "PIN":
            raise ModemError(
                f"modem on {self.device}: SIM {state} required (unlock the SIM in a phone)"
            )
        if not self.config.pin:
            raise ModemError(f"modem on {self.device}: SIM PIN required (set 'pin' in the account)")
        try:
            await self._call(self._sm.EnterSecurityCode, "PIN", self.config.pin)
        except gammu.GSMError as exc:
            # Never retried: three wrong tries lock the SIM.
            raise ModemError(
                f"modem on {self.device}: the SIM rejected the PIN; not retried "
                "(check 'pin' in the account; 3 wrong tries lock the SIM)"
            ) from exc

    async def close(self) -> None:
        self._closing = True
        for task in (self._poller, self._reconnecting):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._sm is not None:
            with contextlib.suppress(Exception):
                await self._call(self._sm.Terminate)
            self._sm = None
        self._executor.shutdown(wait=True)

    @property
    def pin_rejected(self) -> bool:
        return False  # not tracked here: a failed open is tried again

    async def climb(self, why: str | None = None) -> bool:
        return False  # no ladder: the line only reopens

    async def ussd(self, code: str, timeout: float = 30.0) -> USSDAnswer:
        raise ModemError(
            f"modem on {self.device} (gammu): USSD ({code}) is not supported by the gammu "
            "backend; use the 'modem' gateway (AT commands) for a balance query",
            ErrorClass.DEVICE,
        )

    # --- sending --------------------------------------------------------------------

    async def send(
        self,
        number: str,
        text: str,
        *,
        report: bool = False,
        message_id: str | None = None,
        validity_minutes: int | None = None,
        flash: bool = False,
    ) -> SendResult:
        gammu = _gammu()
        info = {
            "Class": 0 if flash else -1,
            "Unicode": choose_encoding(text) is Encoding.UCS2,
            "Entries": [{"ID": "ConcatenatedTextLong", "Buffer": text}],
        }
        try:
            messages = gammu.EncodeSMS(info)
        except gammu.GSMError as exc:
            return SendResult(
                outcome=Outcome.FAILED, parts=[], error=str(exc), error_class="permanent"
            )
        results: list[SentPart] = []
        total = len(messages)
        if not self.connected.is_set():
            return SendResult(
                outcome=Outcome.FAILED,
                parts=[
                    SentPart(part=n, parts=total, outcome=Outcome.NOT_SENT)
                    for n in range(1, total + 1)
                ],
                error=f"modem on {self.device} (gammu): not connected "
                f"({self.last_error or 'reconnecting'})",
                error_class="transient",
            )
        for n, message in enumerate(messages, 1):
            message["SMSC"] = {"Number": self._smsc} if self._smsc else {"Location": 1}
            if validity_minutes is not None:  # libgammu takes "<n>M", rounded down to TP-VP
                message["SMSC"]["Validity"] = f"{validity_minutes}M"
            message["Number"] = number
            if report:
                message["Type"] = "Status_Report"  # libgammu's way to set TP-SRR
            try:
                mr = await self._call(self._sm.SendSMS, message)
            except gammu.GSMError as exc:
                # libgammu reports a vanished port during SendSMS as ERR_BUG ("Nobody is
                # perfect...") rather than a device error: ask the modem to find out.
                gone = self._lost(exc) or await self._check_alive()
                unknown = gone or type(exc).__name__ in _UNKNOWN_AFTER_SUBMIT
                results.append(
                    SentPart(
                        part=n,
                        parts=total,
                        outcome=Outcome.UNKNOWN if unknown else Outcome.FAILED,
                        error=str(self._error("send failed", exc)),
                        error_class="unknown" if unknown else "transient",
                    )
                )
                break
            self._sent[mr & 0xFF] = (message_id, n)
            results.append(SentPart(part=n, parts=total, outcome=Outcome.SENT, mr=mr))
        results += [
            SentPart(part=n, parts=total, outcome=Outcome.NOT_SENT)
            for n in range(len(results) + 1, total + 1)
        ]
        outcomes = {r.outcome for r in results}
        bad = next((r for r in results if r.error), None)
        outcome = (
            Outcome.SENT
            if outcomes == {Outcome.SENT}
            else Outcome.UNKNOWN
            if Outcome.UNKNOWN in outcomes
            else Outcome.FAILED
        )
        return SendResult(
            outcome=outcome,
            parts=results,
            error=bad.error if bad else None,
            error_class=bad.error_class if bad else None,
        )

    # --- receiving ------------------------------------------------------------------

    def _read_all(self) -> list[dict[str, Any]]:
        gammu = _gammu()
        found: list[dict[str, Any]] = []
        start = True
        location = 0
        while True:
            try:
                if start:
                    batch = self._sm.GetNextSMS(Start=True, Folder=0)
                    start = False
                else:
                    batch = self._sm.GetNextSMS(Location=location, Folder=0)
            except gammu.ERR_EMPTY:
                return found
            found += batch
            location = batch[0]["Location"]

    async def sweep(self) -> int:
        if not self.connected.is_set():
            return 0
        handed = 0
        for message in await self._call(self._read_all):
            if message["Type"] == "Deliver" and self.on_message is not None:
                await self.on_message(incoming_of(message))
            elif message["Type"] == "Status_Report" and self.on_report is not None:
                await self.on_report(self._report(message))
            else:
                continue
            handed += 1
            await self._call(self._sm.DeleteSMS, Folder=0, Location=message["Location"])
        return handed

    def _report(self, message: dict[str, Any]) -> DeliveryReport:
        sent = self._sent.get(int(message.get("MessageReference") or 0))
        return report_of(message, sent)

    async def _poll(self) -> None:
        gammu = _gammu()
        while True:
            await asyncio.sleep(self.config.poll_interval)
            if not self.connected.is_set():
                continue
            try:
                await self.sweep()
            except gammu.GSMError as exc:
                if not self._lost(exc):
                    log.warning("modem on %s (gammu): polling storage failed: %s", self.device, exc)
            except Exception:
                log.exception("modem on %s (gammu): polling storage failed", self.device)

    # --- status ---------------------------------------------------------------------

    async def status(self) -> ModemStatus:
        if not self.connected.is_set() or self._sm is None:
            return ModemStatus(device=self.device, problems=[self.last_error or "not connected"])
        sm = self._sm

        async def ask(function: Callable[[], Any]) -> Any:
            try:
                return await self._call(function)
            except Exception:
                return None

        model = await ask(sm.GetModel)
        network = await ask(sm.GetNetworkInfo) or {}
        signal = await ask(sm.GetSignalQuality) or {}
        smsc = await ask(lambda: sm.GetSMSC(Location=1)) or {}
        storage = await ask(sm.GetSMSStatus) or {}
        security = await ask(sm.GetSecurityStatus)
        dbm = signal.get("SignalStrength")
        rssi = (dbm + 113) // 2 if isinstance(dbm, int) and dbm < 0 else None
        stat = REGISTRATION_OF_STATE.get(network.get("State", ""))
        status = ModemStatus(
            device=self.device,
            manufacturer=await ask(sm.GetManufacturer),
            model=model[1] if model else None,
            firmware=(await ask(sm.GetFirmware) or (None,))[0],
            imei=await ask(sm.GetIMEI),
            imsi=await ask(sm.GetSIMIMSI),
            sim="READY" if security is None else f"SIM {security}",
            registration=stat,
            registration_text=REGISTRATION.get(stat) if stat is not None else None,
            operator=network.get("NetworkName") or None,
            rssi=rssi,
            signal_dbm=dbm if rssi is not None else None,
            signal_bars=rssi_bars(rssi),
            signal_text=signal_text(rssi),
            smsc=smsc.get("Number") or None,
            storage="SM",
            storage_used=storage.get("SIMUsed"),
            storage_total=storage.get("SIMSize"),
        )
        status.problems = judge(status)
        return status
