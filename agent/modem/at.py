"""The AT command engine, sans-I/O (docs/at-modem.md §1): bytes in, events out; commands
in, bytes out.

    engine = ATEngine()
    port.write(engine.send("AT+CSQ"))
    for event in engine.receive_data(port.read()):
        ...   # Info("+CSQ: 21,0"), Final(ok=True, ...), Unsolicited("^RSSI", ["3"]) ...

It never touches a port or a clock: a driver owns the serial port and the timeouts
and feeds this object. Every modem quirk is therefore a unit test of a few bytes.
"""

from __future__ import annotations

import re

import msgspec

from .error_codes import (
    ErrorInfo,
    cme_error,
    cme_error_from_text,
    cms_error,
    cms_error_from_text,
)

CTRL_Z = b"\x1a"
ESC = b"\x1b"
_MAX_BUFFER = 64 * 1024  # a line longer than any PDU line: garbage, drop it


class Final(msgspec.Struct, frozen=True, tag="final"):
    """The end of a command: OK, or an error with its code and meaning."""

    ok: bool
    line: str  # the line as the modem sent it ("" when the engine ended the command)
    error: ErrorInfo | None = None

    def describe(self) -> str:
        if self.ok:
            return "OK"
        return self.error.describe() if self.error else self.line or "ERROR"


class Info(msgspec.Struct, frozen=True, tag="info"):
    """One information line of the command in flight (e.g. "+CSQ: 21,0", a PDU line)."""

    line: str


class Prompt(msgspec.Struct, frozen=True, tag="prompt"):
    """The `> ` after AT+CMGS/AT+CMGW: send the PDU and Ctrl-Z now."""


class Unsolicited(msgspec.Struct, frozen=True, tag="urc"):
    """A URC (docs/at-modem.md §1.5); `pdu` is the second line of +CMT/+CDS/+CBM."""

    name: str
    args: list[str]
    line: str
    pdu: str | None = None


class Discarded(msgspec.Struct, frozen=True, tag="discarded"):
    """A line that belongs to nothing (stray OK, garbage, unknown notification): log it."""

    line: str
    reason: str


Event = Final | Info | Prompt | Unsolicited | Discarded

# Prefixes that are URCs whenever they arrive (docs/at-modem.md §1.5 URC table).
_URC_NAMES = frozenset(
    {
        "+CMTI", "+CMT", "+CDSI", "+CDS", "+CBM", "+CBMI", "+CRING", "+CLIP", "+CCWA",
        "+QIND", "+QUSIM", "^RSSI", "^HCSQ", "^BOOT", "^MODE", "^SRVST", "^SIMST",
        "^DSFLOWRPT", "^CSNR", "^STIN", "^NWTIME", "^ORIG", "^CONN", "^CEND", "^SMMEMFULL",
        "+WIND", "^SMGO", "+ZPAS", "+ZUSIMR", "#STN", "*EBCA", "+SPNWNAME", "+PSBEARER",
    }
)  # fmt: skip
# Whole-line URCs without a colon.
_URC_LINES = frozenset(
    {"RING", "RDY", "CALL READY", "SMS READY", "SMS DONE", "PB DONE", "^SYSSTART", "+ZEND"}
)
# Both URC and response: a response only while the matching command is in flight.
_AMBIGUOUS = frozenset({"+CREG", "+CGREG", "+CEREG", "+CUSD", "+CPIN", "+CFUN"})
_TWO_LINE = frozenset({"+CMT", "+CDS", "+CBM"})
# Call results: final codes of ATD/ATA, URCs (call ended) otherwise.
_CALL_RESULTS = ("NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE")
# Queries some modems answer without a final OK (Wavecom AT+CPIN?, docs/at-modem.md §1.2).
_MAY_LACK_OK = ("AT+CPIN?",)

_NAME = re.compile(r"^([+^#*][A-Z0-9]+|[A-Z][A-Z0-9 ]*?)\s*:\s?(.*)$", re.IGNORECASE)
_HEX_ECHO = re.compile(r"^[0-9A-Fa-f]*$")


def split_args(text: str) -> list[str]:
    """`"SM",3,,"a,b"` -> ['SM', '3', '', 'a,b']: commas outside quotes, quotes removed.

    Tolerates broken quoting (`"5E25` or `"0B,"0100701"`, docs/at-modem.md §7.2): an unclosed quote
    runs to the end of the line."""
    out: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    out.append("".join(current).strip())
    return [] if out == [""] else out


def _final_of(line: str) -> Final | None:
    upper = line.upper()
    if upper == "OK":
        return Final(ok=True, line=line)
    if upper in ("ERROR", "COMMAND NOT SUPPORT", "TOO MANY PARAMETERS"):
        # Huawei says COMMAND NOT SUPPORT for ERROR (gammu at.c, python-gsmmodem).
        return Final(ok=False, line=line)
    for kind in ("+CMS ERROR:", "+CME ERROR:", "MODEM ERROR:"):
        if upper.startswith(kind):
            value = line[len(kind) :].strip()
            if kind == "MODEM ERROR:":  # Motorola A1200: no table, keep the text
                return Final(ok=False, line=line)
            sms = kind == "+CMS ERROR:"
            if value.isascii() and value.isdigit():  # not '²': int() refuses it
                error = cms_error(int(value)) if sms else cme_error(int(value))
            else:  # AT+CMEE=2: the modem sends text; map it back to a code if we can
                error = cms_error_from_text(value) if sms else cme_error_from_text(value)
            return Final(ok=False, line=line, error=error)
    return None


def _printable(line: str) -> bool:
    return all(ch.isprintable() for ch in line)


class ATEngine:
    """State of one modem conversation: what is in flight, what was echoed, the buffer.

    One command at a time (docs/at-modem.md §1.1). `send()` returns the bytes to write; events for
    it come out of `receive_data()` until a `Final`. A driver that gives up on a command
    (timeout) calls `expire()`.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._pending: str | None = None  # the command line in flight, upper case
        self._echo: str | None = None  # a line to drop once: the echo of what we sent
        self._answered = False  # an Info line came for the command in flight
        self._await_prompt = False
        self._pdu_sent = False  # after Ctrl-Z: drop the echoed PDU up to +CMGS
        self._urc_waiting_pdu: Unsolicited | None = None

    # --- outgoing -------------------------------------------------------------------

    @property
    def pending(self) -> str | None:
        return self._pending

    def send(self, command: str) -> bytes:
        """Bytes for one command line; `command` with or without the leading AT."""
        if self._pending is not None:
            raise RuntimeError(f"{command!r} sent while {self._pending!r} is still in flight")
        command = command.strip()
        if not command.upper().startswith("AT"):
            command = "AT" + command
        self._pending = command.upper()
        self._echo = self._pending
        self._answered = False
        self._pdu_sent = False
        self._await_prompt = self._pending.startswith(("AT+CMGS=", "AT+CMGW"))
        return command.encode("ascii") + b"\r"

    def send_pdu(self, pdu_hex: str) -> bytes:
        """The PDU and Ctrl-Z, after a Prompt."""
        if self._pending is None or not self._pending.startswith(("AT+CMGS=", "AT+CMGW")):
            raise RuntimeError("a PDU is sent only after AT+CMGS/AT+CMGW and its prompt")
        self._await_prompt = False
        self._pdu_sent = True
        return pdu_hex.upper().encode("ascii") + CTRL_Z

    def abort(self) -> bytes:
        """ESC: leaves the SMS-edit state (after a prompt that we do not want to use)."""
        self._await_prompt = False
        return ESC

    def expire(self) -> Final | None:
        """The driver's timeout for the command in flight ran out: forget it.

        Returns a Final when the command may end without OK and its answer came (Wavecom
        answers AT+CPIN? with only `+CPIN: READY`), else None: the command failed."""
        pending, answered = self._pending, self._answered
        self._reset_command()
        if pending in _MAY_LACK_OK and answered:
            return Final(ok=True, line="")
        return None

    def _reset_command(self) -> None:
        self._pending = None
        self._echo = None
        self._answered = False
        self._await_prompt = False
        self._pdu_sent = False

    # --- incoming -------------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        """Feed bytes as read from the port (any split); returns the complete events."""
        self._buffer += data
        events: list[Event] = []
        while True:
            self._buffer = self._buffer.lstrip(b"\r\n")
            if self._await_prompt and self._buffer.startswith(b">"):
                # `> ` comes with no line end (27.005 §3.5.1); SIM7670G sends a bare `>`.
                self._buffer = self._buffer[1:].removeprefix(b" ")
                self._await_prompt = False
                events.append(Prompt())
                continue
            ends = [i for i in (self._buffer.find(b"\r"), self._buffer.find(b"\n")) if i >= 0]
            cut = min(ends, default=-1)
            if cut < 0:
                if len(self._buffer) > _MAX_BUFFER:
                    events.append(Discarded(self._buffer[:80].decode("latin-1"), "line too long"))
                    self._buffer = b""
                break
            raw, self._buffer = self._buffer[:cut], self._buffer[cut + 1 :]
            line = raw.replace(b"\x00", b"").decode("latin-1").strip()
            if line:
                events.extend(self._line(line))
        return events

    def _line(self, line: str) -> list[Event]:
        if self._urc_waiting_pdu is not None:
            urc, self._urc_waiting_pdu = self._urc_waiting_pdu, None
            return [msgspec.structs.replace(urc, pdu=line)]
        upper = line.upper()
        if self._echo is not None and upper.rstrip(CTRL_Z.decode()) == self._echo:
            self._echo = None  # dropped once; even after ATE0 the ATE0 itself is echoed
            return []
        if self._pdu_sent:
            # With echo on the modem repeats the PDU and Ctrl-Z (smsd's verify_pdu).
            body = line.replace(CTRL_Z.decode(), "").removeprefix(">").strip()
            if _HEX_ECHO.match(body):
                return []
        if not _printable(line):
            return [Discarded(line, "not text (line noise or wrong baud rate)")]

        final = _final_of(line)
        if upper in _CALL_RESULTS or upper.startswith("CONNECT"):
            in_call = self._pending is not None and self._pending.startswith(("ATD", "ATA"))
            if in_call:
                final = Final(ok=upper.startswith("CONNECT"), line=line)
            else:
                return [Unsolicited(upper, [], line)]
        if final is not None:
            if self._pending is None:
                return [Discarded(line, "final result with no command in flight")]
            self._reset_command()
            return [final]

        name, args = self._name_args(line)
        if name is not None and self._is_urc(name):
            urc = Unsolicited(name, split_args(args), line)
            if name in _TWO_LINE:
                self._urc_waiting_pdu = urc
                return []
            return [urc]
        if upper in _URC_LINES:
            return [Unsolicited(upper, [], line)]
        if name == "+CMGS" and not (self._pending or "").startswith("AT+CMGS"):
            # Late +CMGS after a timed-out send (docs/at-modem.md §3.2), while idle or inside the
            # answer to a later command: the last submission's MR, not that command's.
            return [Unsolicited(name, split_args(args), line)]
        if self._pending is None:
            return [Discarded(line, "unsolicited line we do not know")]
        self._answered = True
        return [Info(line)]

    @staticmethod
    def _name_args(line: str) -> tuple[str | None, str]:
        match = _NAME.match(line)
        if not match:
            return None, ""
        return match.group(1).upper(), match.group(2)

    def _is_urc(self, name: str) -> bool:
        if name in _URC_NAMES:
            return True
        if name in _AMBIGUOUS:
            # "+CREG: 0,1" answers AT+CREG?; at any other time it is a registration change.
            return self._pending is None or not self._pending.startswith("AT" + name)
        return False
