"""The virtual modem's settings and fault switches, and what it records."""

from __future__ import annotations

import msgspec

from .pdu import Submit


class VirtualConfig(msgspec.Struct, kw_only=True):
    manufacturer: str = "smsbridge"
    model: str = "Virtual GSM Modem"
    firmware: str = "1.0"
    imei: str = "356938035643809"
    imsi: str = "230011234567890"
    operator: str = "Virtual Operator"
    smsc: str = "+420603052000"
    rssi: int = 21  # +CSQ scale 0-31, 99 unknown
    registration: int = 1  # +CREG stat: 1 home, 5 roaming, 2 searching ...
    pin: str | None = None  # SIM PIN required when set
    no_sim: bool = False  # no SIM card: AT+CPIN? and SIM commands answer +CME ERROR: 10
    storage_size: int = 20
    # Fault switches and vendor quirks.
    cmgs_delay: float = 0.0  # seconds before +CMGS: the network round trip
    report_delay: float = 0.0  # seconds from +CMGS to the status report
    report_status: int = 0x00  # TP-ST of generated status reports
    cms_error_rate: float = 0.0  # fraction of AT+CMGS answered with +CMS ERROR
    cms_error_code: int = 500
    seed: int = 0  # for cms_error_rate: runs are reproducible
    huawei_rssi: bool = False  # ^RSSI inside responses; COMMAND NOT SUPPORT; ^CURC
    bare_prompt: bool = False  # SIM7670G: "\r\n>\r\n" instead of "\r\n> "
    cpin_no_ok: bool = False  # Wavecom: +CPIN: READY without OK
    index0: bool = False  # Huawei: storage indices start at 0
    sim_busy_after_pin: int = 0  # SIM commands answered +CME ERROR: 14 after the PIN
    silent: bool = False  # answers nothing at all (a hung modem)
    # Recovery and the modem's family (agent/modem/virtual_profiles.py fills these).
    reset_command: str = "+CFUN=1,1"  # the functional reset that re-enumerates the USB device
    reboot_seconds: float = 0.3  # how long the device node is gone after a reset
    boot_urcs: list[str] = []  # what it says after power-up ("RDY", "^BOOT:..", "+QIND: ..")
    hangup_commands: tuple[str, ...] = ("H", "+CHUP")  # what ends an incoming call
    # USSD: code -> the network's answer; how the modem returns it (text, ucs2, gsm7hex).
    ussd: dict[str, str] = {}
    ussd_encoding: str = "text"
    ussd_delay: float = 0.1  # from OK to the +CUSD answer: the network round trip


class Submission(msgspec.Struct, frozen=True):
    """One SMS-SUBMIT the modem accepted, as decoded by our codec."""

    time: float
    mr: int
    pdu: str
    submit: Submit


class Stored(msgspec.Struct):
    stat: int  # 0 REC UNREAD, 1 REC READ
    pdu: str
