"""A tiny AT-answering modem on a pseudo-terminal, just enough for smsd 3.1.21 to
initialise it and send through it (the project's virtual modem lives elsewhere; this
one only answers what smsd asks, seen in smsd's own log at loglevel 7):

    AT, ATE0, AT+CMEE=1;+CREG=2, AT+CPIN?, AT+CSQ, AT+CREG?, AT+CMGF=0, AT+CGSN,
    AT+CIMI, AT+CPMS?, AT+CMGS=<n> → "> " → PDU ^Z → +CMGS: <mr> | +CMS ERROR: <n>

Received messages and status reports are fed to smsd through its `pdu_from_file`
directory instead (see deliver_pdu / status_report_pdu), so no SIM storage is needed.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from datetime import datetime

from agent.modem.pdu import Submit, decode
from sms import gsm7

_ANSWERS = {
    "AT+CPIN?": "+CPIN: READY",
    "AT+CSQ": "+CSQ: 20,0",
    "AT+CREG?": "+CREG: 0,1",
    "AT+CIMI": "230011234567890",
    "AT+CGSN": "867962041234567",
    "AT+CPMS?": '+CPMS: "SM",0,10,"SM",0,10,"SM",0,10',
}


class FakeModem:
    """Serves one pty. `fail` maps a destination (digits) to the error line to give."""

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.device = os.ttyname(self._slave)
        self.fail: dict[str, str] = {}
        self.submits: list[Submit] = []  # every PDU smsd sent, decoded
        self.commands: list[str] = []
        self.sent_event = threading.Event()  # set after each +CMGS answer
        self._mr = 0
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="fake-modem", daemon=True)
        self._thread.start()

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self._thread.join(5)
        for fd in (self._master, self._slave, self._stop_r, self._stop_w):
            os.close(fd)

    def _run(self) -> None:
        buf = b""
        pdu_mode = False
        while True:
            ready, _, _ = select.select([self._master, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                buf += os.read(self._master, 4096)
            except OSError:
                return
            while True:
                if pdu_mode:
                    end = buf.find(b"\x1a")
                    if end < 0:
                        break
                    pdu, buf, pdu_mode = buf[:end].strip().decode(), buf[end + 1 :], False
                    self._answer(self._submit(pdu))
                    self.sent_event.set()
                    continue
                end = buf.find(b"\r")
                if end < 0:
                    break
                cmd, buf = buf[:end].strip().decode(errors="replace"), buf[end + 1 :]
                if not cmd:
                    continue
                self.commands.append(cmd)
                if cmd.upper().startswith("AT+CMGS="):
                    os.write(self._master, b"\r\n> ")
                    pdu_mode = True
                    continue
                answer = _ANSWERS.get(cmd.upper())
                self._answer(f"{answer}\r\n\r\nOK" if answer else "OK")

    def _submit(self, pdu: str) -> str:
        msg = decode(pdu)
        assert isinstance(msg, Submit), msg
        self.submits.append(msg)
        error = self.fail.get(msg.recipient.lstrip("+"))
        if error:
            return error
        self._mr = (self._mr + 1) % 256
        return f"+CMGS: {self._mr}\r\n\r\nOK"

    def _answer(self, text: str) -> None:
        os.write(self._master, f"\r\n{text}\r\n".encode())


# --- PDUs for smsd's pdu_from_file -------------------------------------------------------


def _address(number: str) -> str:
    digits = number.lstrip("+")
    padded = digits + ("F" if len(digits) % 2 else "")
    swapped = "".join(padded[i + 1] + padded[i] for i in range(0, len(padded), 2))
    return f"{len(digits):02X}91{swapped}"


def _timestamp(when: datetime) -> str:
    digits = when.strftime("%y%m%d%H%M%S") + "00"  # zone +00
    return "".join(digits[i + 1] + digits[i] for i in range(0, 14, 2))


SMSC = "07919471227230F3"


def deliver_pdu(
    sender: str, text: str, *, concat: tuple[int, int, int] | None = None, when: datetime
) -> str:
    """SMS-DELIVER: GSM 7-bit when it fits, else UCS-2; `concat` = (ref, total, seq)."""
    udh = bytes([5, 0, 3, *concat]) if concat else b""
    first = 0x44 if concat else 0x04  # UDHI
    head = f"{SMSC}{first:02X}{_address(sender)}00"
    if gsm7.is_gsm7(text):
        septets = gsm7.encode(text)
        fill = gsm7.fill_bits_after_header(len(udh)) if udh else 0
        body = gsm7.pack(septets, fill)
        udl = len(septets) + (gsm7.header_septets(len(udh)) if udh else 0)
        return f"{head}00{_timestamp(when)}{udl:02X}{(udh + body).hex().upper()}"
    data = udh + text.encode("utf-16-be")
    return f"{head}08{_timestamp(when)}{len(data):02X}{data.hex().upper()}"


def status_report_pdu(recipient: str, mr: int, status: int, *, when: datetime) -> str:
    ts = _timestamp(when)
    return f"{SMSC}06{mr:02X}{_address(recipient)}{ts}{ts}{status:02X}"
