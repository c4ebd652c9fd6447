"""The virtual modem's brain, sans-I/O: command bytes in, answer bytes (with delays) out.

It plays a GSM modem in PDU mode closely enough for our driver, libgammu and smsd:
echo on at power-up, the init commands of docs/at-modem.md §2, AT+CMGS with the `> ` prompt,
SIM storage with +CMTI, routed +CMT/+CDS, stored +CDSI reports, and fault switches
(`VirtualConfig`). virtual.py puts it behind a pseudo-terminal.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

from .pdu import PDUError, Submit, decode
from .pdu_build import encode_deliver, encode_status_report, tpdu_length
from .ussd import decode_text, encode_answer
from .virtual_config import Stored, Submission, VirtualConfig
from .virtual_text import stored_lines, submit_pdu, wanted_stat

__all__ = ["Output", "Stored", "Submission", "VirtualConfig", "VirtualModemCore"]

Output = tuple[float, bytes]  # (delay in seconds before sending, bytes)

_SIM_COMMANDS = ("+CIMI", "+CMGF", "+CPMS", "+CMGS", "+CMGR", "+CMGL", "+CMGD", "+CSCA", "+CNMI")


class VirtualModemCore:
    def __init__(self, config: VirtualConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.submissions: list[Submission] = []
        self._random = random.Random(config.seed)
        self._buffer = b""
        self._pdu_length: int | None = None  # set while waiting for the PDU after `> `
        self._mr = 0
        # The SIM's storage survives a reboot; everything else in power_on() does not.
        self.memories: dict[str, dict[int, Stored]] = {"SM": {}, "SR": {}}
        # Hanging: None, "sms" (the SMS/network stack stopped: only AT, ATZ, ATE and the
        # reset answer), "total" (nothing; a reset or replug cures it) or "forever" (not
        # even a replug does). Set by hang(), cleared by a reboot unless "forever".
        self.hung: str | None = None
        self.reboot_requested = False  # the reset command came: the pty layer re-enumerates
        self.resets = 0
        self.call_from: str | None = None  # an incoming call is ringing
        self.calls_hung_up: list[str] = []
        self.ussd_requests: list[str] = []
        self.power_on()

    def power_on(self) -> None:
        """Factory state after a (re)boot: echo on, PIN asked again, URC settings gone."""
        self.echo = True
        self.pin_ok = self.config.pin is None
        self.sim_busy = 0
        self.cnmi = (0, 0, 0, 0, 0)
        self.read_mem = "SM"
        self.smsc = self.config.smsc
        self._buffer = b""
        self._pdu_length = None
        self.text_mode = False  # AT+CMGF=1
        self._text_to: str | None = None  # recipient of a text-mode AT+CMGS
        self.clip = False  # AT+CLIP=1: +CLIP after RING
        self.crc = False  # AT+CRC=1: +CRING: VOICE instead of RING
        self.call_from = None
        if self.hung != "forever":
            self.hung = None

    def boot_output(self) -> list[Output]:
        """What the modem says on its own once powered up (RDY, ^BOOT, +QIND ...)."""
        if not self.config.boot_urcs or self.hung == "forever":
            return []
        return [(0.0, "".join(f"\r\n{u}\r\n" for u in self.config.boot_urcs).encode())]

    # --- calls ----------------------------------------------------------------------

    def ring(self, number: str | None = None) -> bytes:
        """One ring of an incoming call (the first one starts it); b"" once it ended."""
        if number is not None:
            self.call_from = number
        if self.call_from is None or self.hung:
            return b""
        out = "\r\n+CRING: VOICE\r\n" if self.crc else "\r\nRING\r\n"
        if self.clip:
            toa = 145 if self.call_from.startswith("+") else 129
            out += f'\r\n+CLIP: "{self.call_from}",{toa},,,,0\r\n'
        return out.encode("latin-1")

    def caller_gave_up(self) -> bytes:
        """The caller hung up before anyone answered: the modem says NO CARRIER."""
        if self.call_from is None:
            return b""
        self.call_from = None
        return b"\r\nNO CARRIER\r\n"

    # --- input ----------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Output]:
        if self.config.silent or self.hung in ("total", "forever"):
            return []
        out: list[Output] = []
        self._buffer += data
        while self._buffer:
            if self._pdu_length is not None:
                end = min(
                    (i for i in (self._buffer.find(b"\x1a"), self._buffer.find(b"\x1b")) if i >= 0),
                    default=-1,
                )
                if end < 0:
                    break
                body, key = self._buffer[:end], self._buffer[end : end + 1]
                self._buffer = self._buffer[end + 1 :]
                if self.echo:
                    out.append((0.0, body + key))
                out += self._pdu(body.decode("latin-1").strip(), aborted=key == b"\x1b")
                continue
            cut = self._buffer.find(b"\r")
            if cut < 0:
                break
            # ESC outside the SMS-edit state is ignored, as by real modems.
            line = self._buffer[:cut].decode("latin-1").replace("\x1b", "").strip("\n\x00 ")
            self._buffer = self._buffer[cut + 1 :]
            if not line:
                continue
            if self.echo:
                out.append((0.0, line.encode("latin-1") + b"\r"))
            out += self._command_line(line)
        return out

    def _command_line(self, line: str) -> list[Output]:
        if not line.upper().startswith("AT"):
            return []  # modems ignore lines that are not commands
        body = line[2:]
        if not body:
            return self._ok()
        if self.hung == "sms":
            # The AT parser still runs, the rest does not: basic commands and the reset.
            upper = body.upper()
            if upper in ("Z", "E0", "E1", "&F") or upper == self.config.reset_command.upper():
                return self._command(body if body[0] in "+^&#" else upper) or self._ok()
            return []
        answer: list[Output] = []
        # Chained commands (AT+CMEE=1;+CMGF=0): run each until one fails.
        for part in body.split(";"):
            part = part.strip()
            if not part:
                continue
            result = self._command(part if part[0] in "+^&" else part.upper())
            if result is None:
                return answer + self._ok()
            answer += result
            if not result or result[-1][1] != b"\r\nOK\r\n":
                return answer
            answer.pop()  # the OK of this one; the chain gets one final OK
        return answer + self._ok()

    # --- answers --------------------------------------------------------------------

    def _lines(self, *lines: str, ok: bool = True) -> list[Output]:
        text = "".join(f"\r\n{line}\r\n" for line in lines)
        if self.config.huawei_rssi and lines:
            text = f"\r\n^RSSI:{self.config.rssi}\r\n" + text
        # The OK is its own chunk so that a chain of commands can drop all but the last.
        return [(0.0, text.encode("latin-1"))] + (self._ok() if ok else [])

    def _ok(self) -> list[Output]:
        return [(0.0, b"\r\nOK\r\n")]

    def _error(self) -> list[Output]:
        return [
            (0.0, b"\r\nCOMMAND NOT SUPPORT\r\n" if self.config.huawei_rssi else b"\r\nERROR\r\n")
        ]

    def _cme(self, code: int) -> list[Output]:
        return [(0.0, f"\r\n+CME ERROR: {code}\r\n".encode())]

    def _cms(self, code: int) -> list[Output]:
        return [(0.0, f"\r\n+CMS ERROR: {code}\r\n".encode())]

    def _command(self, cmd: str) -> list[Output] | None:
        upper = cmd.upper()
        name = upper.split("=")[0].split("?")[0]
        if upper == self.config.reset_command.upper():
            self.reboot_requested = True  # OK first; then the device goes (virtual.py)
            self.resets += 1
            return self._ok()
        if name in ("H", "+CHUP") and name in self.config.hangup_commands:
            if self.call_from is not None:
                self.calls_hung_up.append(self.call_from)
                self.call_from = None
            return self._ok()
        if name == "+CLIP":
            if upper == "+CLIP?":
                return self._lines(f"+CLIP: {int(self.clip)},1")
            self.clip = upper == "+CLIP=1"
            return self._ok()
        if name == "+CRC":
            self.crc = upper == "+CRC=1"
            return self._ok()
        if name == "+CUSD":
            return self._cusd(cmd)
        if name in ("Z", "&F"):
            self.echo = True
            return self._ok()
        if name in ("E0", "E1", "E"):
            self.echo = name == "E1"
            return self._ok()
        if name in ("I", "Q0", "V1", "&C1", "&D2", "&K3", "+CMEE", "+CNMA", "+CFUN"):
            if name == "I":
                return self._lines(f"{self.config.manufacturer} {self.config.model}")
            if upper == "+CFUN?":
                return self._lines("+CFUN: 1")
            return self._ok()
        if self.config.no_sim and (name == "+CPIN" or name in _SIM_COMMANDS):
            return self._cme(10)
        if name == "+CPIN":
            return self._cpin(cmd)
        if name in _SIM_COMMANDS:
            if not self.pin_ok:
                return self._cms(311) if name != "+CIMI" else self._cme(11)
            if self.sim_busy:
                self.sim_busy -= 1
                return self._cme(14)
        identity = {
            "+CGMI": self.config.manufacturer,
            "+GMI": self.config.manufacturer,
            "+CGMM": self.config.model,
            "+GMM": self.config.model,
            "+CGMR": self.config.firmware,
            "+GMR": self.config.firmware,
            "+CGSN": self.config.imei,
            "+GSN": self.config.imei,
            "+CIMI": self.config.imsi,
        }
        if name in identity and "=" not in upper:
            return self._lines(identity[name])
        if name == "+CMGF":
            if upper == "+CMGF=?":
                return self._lines("+CMGF: (0,1)")
            if upper == "+CMGF?":
                return self._lines(f"+CMGF: {int(self.text_mode)}")
            if upper not in ("+CMGF=0", "+CMGF=1"):
                return self._cms(303)
            self.text_mode = upper == "+CMGF=1"
            return self._ok()
        if name == "+CSMS":
            return self._lines("+CSMS: 0,1,1,1" if upper.endswith("?") else "+CSMS: 1,1,1")
        if name == "+CPMS":
            return self._cpms(upper)
        if name == "+CNMI":
            return self._cnmi(upper)
        if name == "+CSCA":
            if upper == "+CSCA?":
                return self._lines(f'+CSCA: "{self.smsc}",145')
            self.smsc = cmd.split("=", 1)[1].split(",")[0].strip('"')
            return self._ok()
        if name in ("+CREG", "+CGREG", "+CEREG"):
            if upper.endswith("?"):
                return self._lines(f"{name}: 0,{self.config.registration}")
            return self._lines(f"{name}: (0-2)") if upper.endswith("=?") else self._ok()
        if name == "+CSQ":
            return self._lines(f"+CSQ: {self.config.rssi},99")
        if name == "+COPS":
            if upper == "+COPS?":
                return self._lines(f'+COPS: 0,0,"{self.config.operator}",7')
            return self._ok()
        if name == "+CMGS":
            return self._cmgs(upper)
        if name == "+CMGR":
            return self._cmgr(upper)
        if name == "+CMGL":
            return self._cmgl(upper)
        if name == "+CMGD":
            return self._cmgd(upper)
        if name == "+CSCS":  # character set: only matters for text mode and phonebooks
            if upper == "+CSCS=?":
                return self._lines('+CSCS: ("GSM","IRA","UCS2")')
            return self._lines('+CSCS: "GSM"') if upper == "+CSCS?" else self._ok()
        if name == "+CGATT":
            return self._lines("+CGATT: 1") if upper == "+CGATT?" else self._ok()
        if name == "^CURC" and self.config.huawei_rssi:
            return self._ok()
        return self._error()

    def _cusd(self, cmd: str) -> list[Output]:
        upper = cmd.upper()
        if upper == "+CUSD?":
            return self._lines("+CUSD: 1")
        args = cmd.split("=", 1)[1].split(",") if "=" in cmd else []
        if not args or args[0].strip() != "1" or len(args) < 2:
            return self._ok()  # AT+CUSD=2 cancels, =0/=1 alone set result codes
        if not self.pin_ok:
            return self._cme(11)
        code = args[1].strip().strip('"')
        if self.config.ussd_encoding == "gsm7hex":  # it was sent packed: unpack it
            code = decode_text(code, 15, form="gsm7hex")
        self.ussd_requests.append(code)
        answer = self.config.ussd.get(code)
        if answer is None:
            return [*self._ok(), (self.config.ussd_delay, b"\r\n+CUSD: 4\r\n")]
        text, dcs = encode_answer(answer, self.config.ussd_encoding)
        urc = f'\r\n+CUSD: 0,"{text}",{dcs}\r\n'.encode("latin-1")
        return [*self._ok(), (self.config.ussd_delay, urc)]

    def _cpin(self, cmd: str) -> list[Output]:
        if cmd.upper() == "+CPIN?":
            state = "READY" if self.pin_ok else "SIM PIN"
            return self._lines(f"+CPIN: {state}", ok=not self.config.cpin_no_ok)
        given = cmd.split("=", 1)[-1].split(",")[0].strip('"')
        if self.pin_ok:
            return self._cme(3)  # no PIN asked: operation not allowed
        if given != self.config.pin:
            return self._cme(16)
        self.pin_ok = True
        self.sim_busy = self.config.sim_busy_after_pin
        return self._ok()

    def _first_index(self) -> int:
        return 0 if self.config.index0 else 1

    def _cpms(self, upper: str) -> list[Output]:
        if upper == "+CPMS=?":
            return self._lines('+CPMS: ("SM","SR"),("SM","SR"),("SM","SR")')
        size = self.config.storage_size
        if upper == "+CPMS?":
            used = len(self.memories[self.read_mem])
            sm = len(self.memories["SM"])
            return self._lines(
                f'+CPMS: "{self.read_mem}",{used},{size},"SM",{sm},{size},"SM",{sm},{size}'
            )
        mems = [m.strip('" ') for m in upper.split("=", 1)[1].split(",")]
        if any(m not in self.memories for m in mems):
            return self._cms(302)
        self.read_mem = mems[0]
        counts = ",".join(f"{len(self.memories[m])},{size}" for m in (mems * 3)[:3])
        return self._lines(f"+CPMS: {counts}")

    def _cnmi(self, upper: str) -> list[Output]:
        if upper == "+CNMI=?":
            return self._lines("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)")
        if upper == "+CNMI?":
            return self._lines("+CNMI: " + ",".join(map(str, self.cnmi)))
        values = [int(v) if v.strip() else 0 for v in upper.split("=", 1)[1].split(",")]
        self.cnmi = tuple((values + [0] * 5)[:5])  # type: ignore[assignment]
        return self._ok()

    def _cmgs(self, upper: str) -> list[Output]:
        argument = upper.split("=", 1)[1]
        if self.text_mode:
            self._text_to = argument.split(",")[0].strip().strip('"')
            self._pdu_length = -1
        else:
            try:
                self._pdu_length = int(argument)
            except ValueError:
                return self._cms(304)
        return [(0.0, b"\r\n>\r\n" if self.config.bare_prompt else b"\r\n> ")]

    def _pdu(self, pdu: str, *, aborted: bool) -> list[Output]:
        length, self._pdu_length = self._pdu_length, None
        if aborted:
            self._text_to = None
            return self._ok()
        if self._text_to is not None:  # text mode: the modem builds the SUBMIT
            try:
                pdu = submit_pdu(self._text_to, pdu)
            except ValueError:
                return self._cms(305)
            finally:
                self._text_to = None
            length = tpdu_length(pdu)
        try:
            if tpdu_length(pdu) != length:
                return self._cms(304)
            submit = decode(pdu)
        except (ValueError, PDUError, IndexError):
            return self._cms(304)
        if not isinstance(submit, Submit):
            return self._cms(304)
        delay = self.config.cmgs_delay
        if self.config.cms_error_rate and self._random.random() < self.config.cms_error_rate:
            return [(delay, f"\r\n+CMS ERROR: {self.config.cms_error_code}\r\n".encode())]
        self._mr = (self._mr + 1) % 256
        self.submissions.append(Submission(self.clock(), self._mr, pdu, submit))
        out: list[Output] = [(delay, f"\r\n+CMGS: {self._mr}\r\n\r\nOK\r\n".encode())]
        if submit.report_requested:
            out += self._status_report(self._mr, submit.recipient)
        return out

    def _status_report(self, mr: int, recipient: str) -> list[Output]:
        ds = self.cnmi[3]
        pdu = encode_status_report(mr, recipient, status=self.config.report_status)
        if ds == 1:
            return [
                (self.config.report_delay, f"\r\n+CDS: {tpdu_length(pdu)}\r\n{pdu}\r\n".encode())
            ]
        if ds == 2:
            index = self._store("SR", pdu)
            if index is not None:
                return [(self.config.report_delay, f'\r\n+CDSI: "SR",{index}\r\n'.encode())]
        return []

    def _store(self, mem: str, pdu: str) -> int | None:
        slots = self.memories[mem]
        if len(slots) >= self.config.storage_size:
            return None
        start = self._first_index()
        index = next(
            i for i in range(start, start + self.config.storage_size + 1) if i not in slots
        )
        slots[index] = Stored(0, pdu)
        return index

    def _index(self, upper: str) -> int | None:
        try:
            return int(upper.split("=", 1)[1].split(",")[0])
        except ValueError:
            return None

    def _cmgr(self, upper: str) -> list[Output]:
        index = self._index(upper)
        slot = self.memories[self.read_mem].get(index) if index is not None else None
        if slot is None:
            return self._cms(321)
        if self.text_mode:
            answer = self._lines(*stored_lines("+CMGR: ", slot.stat, slot.pdu))
        else:
            answer = self._lines(f"+CMGR: {slot.stat},,{tpdu_length(slot.pdu)}", slot.pdu)
        slot.stat = 1
        return answer

    def _cmgl(self, upper: str) -> list[Output]:
        wanted = wanted_stat(upper.split("=", 1)[1]) if "=" in upper else 0
        lines: list[str] = []
        for index, slot in sorted(self.memories[self.read_mem].items()):
            if wanted in (4, slot.stat):
                if self.text_mode:
                    lines += stored_lines(f"+CMGL: {index},", slot.stat, slot.pdu)
                else:
                    lines += [f"+CMGL: {index},{slot.stat},,{tpdu_length(slot.pdu)}", slot.pdu]
                slot.stat = 1
        return self._lines(*lines)

    def _cmgd(self, upper: str) -> list[Output]:
        args = upper.split("=", 1)[1].split(",")
        slots = self.memories[self.read_mem]
        flag = int(args[1]) if len(args) > 1 and args[1].strip() else 0
        if flag == 4:
            slots.clear()
        elif flag:
            for index in [i for i, s in slots.items() if s.stat == 1]:
                del slots[index]
        else:
            try:
                slots.pop(int(args[0]), None)
            except ValueError:
                return self._cms(321)
        return self._ok()

    # --- the network's side ---------------------------------------------------------

    def deliver(self, sender: str, text: str, when: datetime | None = None) -> list[Output]:
        """An SMS arrives from the network: stored + +CMTI, or routed +CMT, per AT+CNMI."""
        out: list[Output] = []
        when = when or datetime.now(UTC).replace(microsecond=0)
        for pdu in encode_deliver(sender, text, timestamp=when, smsc=self.smsc):
            out += self.deliver_pdu(pdu)
        return out

    def deliver_pdu(self, pdu: str) -> list[Output]:
        if self.cnmi[1] == 2:
            return [(0.0, f"\r\n+CMT: ,{tpdu_length(pdu)}\r\n{pdu}\r\n".encode())]
        index = self._store("SM", pdu)
        if index is None:
            return [(0.0, b'\r\n^SMMEMFULL: "SM"\r\n')] if self.config.huawei_rssi else []
        if self.cnmi[1] == 1:
            return [(0.0, f'\r\n+CMTI: "SM",{index}\r\n'.encode())]
        return []
