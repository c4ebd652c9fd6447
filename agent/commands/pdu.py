"""`sms-agent pdu encode|decode`: the PDU codec for technicians, JSON out."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import msgspec

from agent.modem.pdu import PDUError, decode, encode_submit

ENCODE_HELP = """\
Encode TEXT as the SMS-SUBMIT PDUs a modem is given with AT+CMGS, one JSON object
per part and per line: {"pdu", "tpdu_length", "part", "parts", "reference",
"encoding", "text"}. tpdu_length is the number AT+CMGS=<n> needs (the PDU without
its SMSC field). GSM 7-bit is used when every character allows it, else UCS-2.

example:
  sms-agent pdu encode --to +420774884138 --report 'Hello'
  AT+CMGS=<tpdu_length> then <pdu> and Ctrl-Z on the modem's port
"""

DECODE_HELP = """\
Decode a PDU in hex as a modem shows it (after +CMGR:, +CMGL:, +CMT: or +CDS:) and
print it as one JSON object: SMS-DELIVER (an incoming message), SMS-SUBMIT (an
outgoing one) or SMS-STATUS-REPORT (a delivery report, with the status' meaning).
The PDU starts with the SMSC field; --no-smsc for a bare TPDU. Without either flag a
PDU that does not decode with the SMSC field is tried without it.

example:
  sms-agent pdu decode 0791447758100650064D0C91447700091032423051410300004230514103700000
"""


def register(sub: Any) -> None:
    pdu = sub.add_parser("pdu", help="encode or decode SMS PDUs (3GPP TS 23.040)")
    pdu_sub = pdu.add_subparsers(dest="pdu_command", metavar="ACTION", required=True)

    enc = pdu_sub.add_parser(
        "encode",
        help="encode a text as SMS-SUBMIT PDUs",
        description=ENCODE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    enc.add_argument("--to", required=True, metavar="NUMBER", help="recipient: +420774884138")
    enc.add_argument("--report", action="store_true", help="request a status report")
    enc.add_argument("--ucs2", action="store_true", help="force UCS-2 even for GSM 7-bit text")
    enc.add_argument("--smsc", metavar="NUMBER", help="SMSC to put in the PDU (default: modem's)")
    enc.add_argument("--flash", action="store_true", help="class 0 (shown, not stored)")
    enc.add_argument("--validity", type=int, metavar="MINUTES", help="relative validity period")
    enc.add_argument("--reference", type=int, help="concatenation reference (multipart)")
    enc.add_argument("--ref16", action="store_true", help="16-bit concatenation reference")
    enc.add_argument("--json", action="store_true", help="JSON output (the default)")
    enc.add_argument("text", metavar="TEXT")
    enc.set_defaults(handler=run_encode)

    dec = pdu_sub.add_parser(
        "decode",
        help="decode a PDU in hex",
        description=DECODE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    group = dec.add_mutually_exclusive_group()
    group.add_argument(
        "--smsc",
        dest="has_smsc",
        action="store_true",
        default=None,
        help="the PDU starts with the SMSC field",
    )
    group.add_argument(
        "--no-smsc", dest="has_smsc", action="store_false", help="the PDU is a bare TPDU"
    )
    dec.add_argument("--json", action="store_true", help="JSON output (the default)")
    dec.add_argument("hex", metavar="HEX")
    dec.set_defaults(handler=run_decode)


def _fail(message: str) -> int:
    print(f"sms-agent pdu: {message}", file=sys.stderr)
    return 2


def run_encode(args: argparse.Namespace) -> int:
    from sms.segment import Encoding

    try:
        parts = encode_submit(
            args.to,
            args.text,
            report=args.report,
            encoding=Encoding.UCS2 if args.ucs2 else None,
            smsc=args.smsc,
            flash=args.flash,
            validity_minutes=args.validity,
            reference=args.reference,
            ref16=args.ref16,
        )
    except ValueError as exc:
        return _fail(str(exc))
    for part in parts:
        sys.stdout.write(msgspec.json.encode(part).decode() + "\n")
    return 0


def run_decode(args: argparse.Namespace) -> int:
    try:
        message = decode(args.hex, has_smsc=args.has_smsc)
    except PDUError as exc:
        return _fail(f"cannot decode: {exc}")
    sys.stdout.write(msgspec.json.encode(message).decode() + "\n")
    return 0
