"""+CMS ERROR and +CME ERROR codes (docs/at-modem.md §9): meaning, class and a hint a person
can act on.

    cms_error(304)            -> ErrorInfo(code=304, meaning="invalid PDU mode parameter", ...)
    cme_error_from_text("SIM PIN required").code == 11   # answers under AT+CMEE=2

The class decides what the driver does (docs/at-modem.md §3.3): retry later (transient), give
up on this message (permanent), or stop using the modem and alert (device).
"""

from __future__ import annotations

import enum

import msgspec


class ErrorClass(enum.StrEnum):
    TRANSIENT = "transient"  # retry the same part later, after a re-init
    PERMANENT = "permanent"  # this message cannot be sent; do not retry
    DEVICE = "device"  # the modem/SIM/config is wrong: stop using it, alert a person
    EMPTY = "empty"  # "nothing there" (invalid index on a read): not a failure


class ErrorInfo(msgspec.Struct, frozen=True):
    kind: str  # "CMS" or "CME"
    code: int | None
    meaning: str
    error_class: ErrorClass
    hint: str | None = None  # what a person should do, when we know

    def describe(self) -> str:
        code = "" if self.code is None else f" {self.code}"
        text = f"{self.meaning} (+{self.kind} ERROR{code})"
        return f"{text}: {self.hint}" if self.hint else text


_T, _P, _D, _E = ErrorClass.TRANSIENT, ErrorClass.PERMANENT, ErrorClass.DEVICE, ErrorClass.EMPTY

# 27.005 §3.2.5; 0–127 are RP causes (24.011), 128–255 TP-FCS (23.040).
CMS: dict[int, tuple[str, ErrorClass]] = {
    1: ("unassigned (unallocated) number", _P),
    8: ("operator determined barring", _P),
    10: ("call barred", _P),
    21: ("short message transfer rejected", _P),
    22: ("memory capacity exceeded (MS)", _D),
    27: ("destination out of order / out of service", _T),
    28: ("unidentified subscriber", _P),
    29: ("facility rejected", _P),
    30: ("unknown subscriber", _P),
    38: ("network out of order", _T),
    41: ("temporary failure", _T),
    42: ("congestion", _T),
    47: ("resources unavailable, unspecified", _T),
    50: ("requested facility not subscribed", _P),
    69: ("requested facility not implemented", _P),
    81: ("invalid short message transfer reference value", _T),
    95: ("semantically incorrect / invalid message", _P),
    96: ("invalid mandatory information", _P),
    97: ("message type non-existent or not implemented", _P),
    98: ("message not compatible with short message protocol state", _P),
    99: ("information element non-existent or not implemented", _P),
    111: ("protocol error, unspecified", _P),
    127: ("interworking, unspecified", _P),
    128: ("telematic interworking not supported", _P),
    129: ("short message type 0 not supported", _P),
    130: ("cannot replace short message", _P),
    143: ("unspecified TP-PID error", _P),
    144: ("data coding scheme (alphabet) not supported", _P),
    145: ("message class not supported", _P),
    159: ("unspecified TP-DCS error", _P),
    160: ("command cannot be actioned", _P),
    161: ("command unsupported", _P),
    175: ("unspecified TP-Command error", _P),
    176: ("TPDU not supported", _P),
    192: ("SC busy", _T),
    193: ("no SC subscription", _P),
    194: ("SC system failure", _T),
    195: ("invalid SME address", _P),
    196: ("destination SME barred", _P),
    197: ("SM rejected, duplicate SM", _P),
    198: ("TP-VPF not supported", _P),
    199: ("TP-VP not supported", _P),
    208: ("(U)SIM SMS storage full", _D),
    209: ("no SMS storage capability in (U)SIM", _D),
    210: ("error in MS", _T),
    211: ("memory capacity exceeded", _D),
    212: ("(U)SIM Application Toolkit busy", _T),
    213: ("(U)SIM data download error", _T),
    255: ("unspecified error cause", _T),
    300: ("ME failure", _D),
    301: ("SMS service of ME reserved", _D),
    302: ("operation not allowed", _D),
    303: ("operation not supported", _D),
    304: ("invalid PDU mode parameter", _P),
    305: ("invalid text mode parameter", _P),
    310: ("SIM not inserted", _D),
    311: ("SIM PIN required", _D),
    312: ("PH-SIM PIN required", _D),
    313: ("SIM failure", _D),
    314: ("SIM busy", _T),
    315: ("SIM wrong", _D),
    316: ("SIM PUK required", _D),
    317: ("SIM PIN2 required", _D),
    318: ("SIM PUK2 required", _D),
    320: ("memory failure", _D),
    321: ("invalid memory index", _E),
    322: ("memory full", _D),
    330: ("SMSC address unknown", _D),
    331: ("no network service", _T),
    332: ("network timeout", _T),
    340: ("no +CNMA acknowledgement expected", _D),
    500: ("unknown error", _T),
    # smstools' generic reading of the vendor range: all "try again".
    512: ("MM establishment failure (weak signal or collision with an incoming SMS)", _T),
    513: ("lower layer failure: acknowledgement timed out or radio link lost", _T),
    514: ("network error, congestion", _T),
    515: ("please wait, service not available, init in progress", _T),
}

# Siemens/Cinterion give 512+ their own meanings (gammu atgen.c); chosen by AT+CGMI.
CMS_SIEMENS: dict[int, tuple[str, ErrorClass]] = {
    512: ("user abort", _P),
    513: ("unable to store", _D),
    514: ("invalid status", _P),
    515: ("invalid character in address string", _P),
    516: ("invalid length", _P),
    517: ("invalid character in PDU", _P),
    519: ("invalid length or character", _P),
    520: ("invalid character in text", _P),
    521: ("timer expired", _T),
    522: ("operation temporarily not allowed", _T),
    532: ("SIM not ready", _T),
    534: ("cell broadcast error unknown", _P),
    535: ("PS busy", _T),
    538: ("invalid parameter", _P),
    549: ("incorrect PDU length", _P),
    550: ("invalid message type indication (MTI)", _P),
    551: ("invalid (non-hex) characters in address", _P),
    553: ("incorrect PDU length (UDL)", _P),
    554: ("incorrect SCA length", _P),
}

# 27.007 §9.2 and the vendor codes seen by gammu and smstools.
CME: dict[int, tuple[str, ErrorClass]] = {
    0: ("phone failure", _D),
    1: ("no connection to phone", _D),
    2: ("phone-adaptor link reserved", _D),
    3: ("operation not allowed", _D),
    4: ("operation not supported", _D),
    5: ("PH-SIM PIN required", _D),
    6: ("PH-FSIM PIN required", _D),
    7: ("PH-FSIM PUK required", _D),
    10: ("SIM not inserted", _D),
    11: ("SIM PIN required", _D),
    12: ("SIM PUK required", _D),
    13: ("SIM failure", _D),
    14: ("SIM busy", _T),
    15: ("SIM wrong", _D),
    16: ("incorrect password", _D),
    17: ("SIM PIN2 required", _D),
    18: ("SIM PUK2 required", _D),
    20: ("memory full", _D),
    21: ("invalid index", _E),
    22: ("not found", _E),
    23: ("memory failure", _D),
    24: ("text string too long", _P),
    25: ("invalid characters in text string", _P),
    26: ("dial string too long", _P),
    27: ("invalid characters in dial string", _P),
    30: ("no network service", _T),
    31: ("network timeout", _T),
    32: ("network not allowed, emergency calls only", _D),
    40: ("network personalisation PIN required", _D),
    41: ("network personalisation PUK required", _D),
    42: ("network subset personalisation PIN required", _D),
    43: ("network subset personalisation PUK required", _D),
    44: ("service provider personalisation PIN required", _D),
    45: ("service provider personalisation PUK required", _D),
    46: ("corporate personalisation PIN required", _D),
    47: ("corporate personalisation PUK required", _D),
    48: ("PH-SIM PUK required", _D),
    49: ("EAP method not supported", _P),
    50: ("incorrect parameters", _P),
    100: ("unknown", _T),
    103: ("illegal MS", _D),
    106: ("illegal ME", _D),
    107: ("GPRS services not allowed", _D),
    111: ("PLMN not allowed", _D),
    112: ("location area not allowed", _D),
    113: ("roaming not allowed in this location area", _D),
    126: ("operation temporarily not allowed", _T),
    132: ("service option not supported", _P),
    133: ("requested service option not subscribed", _P),
    134: ("service option temporarily out of order", _T),
    148: ("unspecified GPRS error", _T),
    149: ("PDP authentication failure", _D),
    150: ("invalid mobile class", _D),
    256: ("operation temporarily not allowed", _T),
    257: ("call barred", _P),
    258: ("phone busy", _T),
    259: ("user abort", _P),
    260: ("invalid dial string", _P),
    261: ("SS not executed", _P),
    262: ("SIM blocked", _D),
    263: ("invalid block", _P),
    515: ("device busy", _T),
    772: ("SIM powered down", _D),
}

# What to do, for the codes a person can fix. Keyed by (kind, code).
_HINTS: dict[tuple[str, int], str] = {
    ("CME", 10): "insert a SIM card",
    ("CMS", 310): "insert a SIM card",
    ("CME", 11): "set 'pin' in the account",
    ("CMS", 311): "set 'pin' in the account",
    ("CME", 12): "unlock the SIM with its PUK in a phone",
    ("CMS", 316): "unlock the SIM with its PUK in a phone",
    ("CME", 16): "check 'pin' in the account; not retried, more wrong tries lock the SIM",
    ("CME", 13): "reseat or replace the SIM card",
    ("CMS", 313): "reseat or replace the SIM card",
    ("CMS", 330): "set 'smsc' in the account",
    ("CMS", 322): "SMS storage is full: read and delete stored messages",
    ("CME", 20): "SMS storage is full: read and delete stored messages",
    ("CMS", 50): "the SIM's plan does not allow SMS",
    ("CMS", 304): "the PDU or its length is wrong (a bug: report it with the log)",
}

_UNKNOWN_VENDOR = ("manufacturer-specific error", ErrorClass.TRANSIENT)


def cms_error(code: int, manufacturer: str | None = None) -> ErrorInfo:
    """Meaning of +CMS ERROR: <code>; `manufacturer` (AT+CGMI) picks the 512+ table."""
    table = CMS
    if code >= 512 and manufacturer and "siemens" in manufacturer.lower():
        table = {**CMS, **CMS_SIEMENS}
    meaning, klass = table.get(code, _UNKNOWN_VENDOR if code >= 512 else ("unknown error", _P))
    return ErrorInfo("CMS", code, meaning, klass, _HINTS.get(("CMS", code)))


def cme_error(code: int) -> ErrorInfo:
    meaning, klass = CME.get(code, ("unknown error", ErrorClass.TRANSIENT))
    return ErrorInfo("CME", code, meaning, klass, _HINTS.get(("CME", code)))


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").replace("(u)", "").split())


_CME_BY_TEXT = {_normalise(m): c for c, (m, _) in CME.items()}
_CMS_BY_TEXT = {_normalise(m): c for c, (m, _) in CMS.items()}
# Vendors' wording under AT+CMEE=2 differs a little from 27.007's.
_CME_BY_TEXT.update(
    {
        "incorrect pin": 16,
        "wrong password": 16,
        "sim not ready": 14,
        "no network": 30,
        "invalid input value": 50,
        "unknown error": 100,
    }
)


def cme_error_from_text(text: str) -> ErrorInfo:
    """+CME ERROR: <text> (AT+CMEE=2): the code when the text is one we know."""
    code = _CME_BY_TEXT.get(_normalise(text))
    if code is None:
        return ErrorInfo("CME", None, text.strip(), ErrorClass.TRANSIENT)
    return cme_error(code)


def cms_error_from_text(text: str) -> ErrorInfo:
    code = _CMS_BY_TEXT.get(_normalise(text))
    if code is None:
        return ErrorInfo("CMS", None, text.strip(), ErrorClass.TRANSIENT)
    return cms_error(code)
