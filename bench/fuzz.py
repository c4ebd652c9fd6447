"""Mutation fuzzing of every parser that reads what others wrote: each may raise only
its documented error (or nothing); anything else is a bug, printed with a reproducer.

    .venv/bin/python bench/fuzz.py                     # 10^6 inputs per parser
    .venv/bin/python bench/fuzz.py --count 20000 --seed 7 --only smsd-sent,pdu
    .venv/bin/python bench/fuzz.py --list

Inputs are seeds (real files and answers) mutated byte-wise: flips, inserts, deletes,
repeats, splices of two seeds, and tokens that broke parsers before (superscript and
other non-ASCII digits that `str.isdigit()` takes and `int()` refuses, NUL, CR, quotes,
separators). Prints, per parser: inputs run, seconds, inputs/s and the unexpected
exceptions, one reproducer (a Python bytes literal) per distinct place that raised.
Exits 1 when any parser raised something it must not. The suite runs a small seeded
round of this (tests/unit/test_fuzz.py).
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import msgspec  # noqa: E402

TOKENS = [
    "²".encode(), "³".encode(), "¹".encode(), "٣".encode(), "０".encode(), "⁴".encode(),
    b"\xb2", b"\xb3", b"\x00", b"\r", b"\n", b"\r\n", b"\n\n", b": ", b"=", b",", b'"',
    b";", b"/", b"..", b"-1", b"99999999999999999999", b" ", b"\t", b"\xff\xfe", b"\xef\xbb\xbf",
    b"<", b">", b"&", b"\x1a", b"+", b"%", b"*", b"?", b"#",
]  # fmt: skip


@dataclass
class Target:
    name: str
    seeds: list[bytes]
    call: Callable[[bytes], object]
    allowed: tuple[type[BaseException], ...]
    doc: str = ""


@dataclass
class Crash:
    """One place that raised what it must not: how often, and the first input that did."""

    times: int
    data: bytes
    message: str


@dataclass
class Report:
    name: str
    count: int = 0
    seconds: float = 0.0
    crashes: dict[tuple[str, str], Crash] = field(default_factory=dict)  # (type, where)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    @property
    def unexpected(self) -> int:
        return sum(c.times for c in self.crashes.values())


def mutate(rng: random.Random, seeds: Sequence[bytes]) -> bytes:
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif op == 1:
            data[at:at] = rng.choice(TOKENS)
        elif op == 2 and data:
            del data[at : at + rng.randint(1, 16)]
        elif op == 3 and data:
            chunk = data[at : at + rng.randint(1, 32)]
            data[at:at] = chunk * rng.randint(1, 4)
        elif op == 4:
            other = rng.choice(seeds)
            cut = rng.randrange(len(other) + 1)
            data = data[:at] + bytearray(other[cut:])
        elif op == 5 and data:
            data[min(at, len(data) - 1)] = rng.choice(b"0123456789")
        else:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(data)


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    last = frames[-1] if frames else None
    if last is None:
        return "?"
    try:
        path = str(Path(last.filename).resolve().relative_to(ROOT))
    except ValueError:
        path = last.filename
    return f"{path}:{last.lineno}"


def run(target: Target, count: int, seed: int) -> Report:
    rng = random.Random(f"{seed}:{target.name}")
    report = Report(target.name)
    started = time.perf_counter()
    for i in range(count):
        data = target.seeds[i % len(target.seeds)] if i < len(target.seeds) else None
        if data is None:
            data = mutate(rng, target.seeds)
        try:
            target.call(data)
        except target.allowed:
            pass
        except Exception as exc:  # the point: anything else is a finding
            key = (type(exc).__name__, _where(exc))
            crash = report.crashes.setdefault(key, Crash(0, data, str(exc)[:200]))
            crash.times += 1
    report.count = count
    report.seconds = time.perf_counter() - started
    return report


# --- the parsers ----------------------------------------------------------------------------


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="surrogateescape")


def _smsd_seeds() -> list[bytes]:
    folder = ROOT / "tests" / "spool" / "data"
    seeds = [p.read_bytes() for p in sorted(folder.glob("*.smsd"))]
    return seeds or [b"To: 420777123456\nSent: 26-11-20 10:00:00\nMessage_id: 12\n\nAhoj"]


def _at_target() -> Target:
    from agent.modem import status
    from agent.modem.at import ATEngine

    commands = ["AT+CSQ", "AT+CMGS=23", "AT+CPMS?", "AT+CREG?", "AT+CMGL=4", "ATD+420123;"]
    parsers = [
        status.parse_csq,
        status.parse_registration,
        status.parse_cops,
        status.parse_csca,
        status.parse_cpms,
        status.parse_cpin,
        status.strip_prefix,
        status.identity_digits,
    ]

    def call(data: bytes) -> None:
        engine = ATEngine()
        engine.send(commands[len(data) % len(commands)])
        for chunk in (data[: len(data) // 2], data[len(data) // 2 :]):
            for event in engine.receive_data(chunk):
                line = getattr(event, "line", None)
                if isinstance(line, str):
                    for parse in parsers:
                        parse(line)

    seeds = [
        b"AT+CSQ\r\r\n+CSQ: 21,99\r\n\r\nOK\r\n",
        b"\r\n+CMS ERROR: 500\r\n",
        b"\r\n+CME ERROR: SIM PIN required\r\n",
        b'\r\n+CPMS: "SM",3,30,"SM",3,30,"SM",3,30\r\n\r\nOK\r\n',
        b"\r\n+CREG: 0,1\r\n\r\nOK\r\n+CREG: 5\r\n",
        b'\r\n+COPS: 0,0,"T-Mobile CZ",7\r\n\r\nOK\r\n',
        b'\r\n+CSCA: "+420603052000",145\r\n\r\nOK\r\n',
        b"\r\n> \r\n+CMGS: 17\r\n\r\nOK\r\n",
        b'\r\n+CMTI: "SM",4\r\n+CMT: ,24\r\n'
        b"07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07\r\n",
        b"\r\n+CPIN: READY\r\n\r\nOK\r\nRING\r\nNO CARRIER\r\n",
    ]
    return Target(
        "at", seeds, call, (), "agent/modem/at.py ATEngine, agent/modem/status.py parsers: nothing"
    )


def _pdu_target() -> Target:
    from agent.modem.pdu import PDUError, decode, encode_submit

    seeds = [
        b"07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07",
        b"0006D60B911326880736F4111011719551401110117195714000",
        b"07914400000000F04409D0E8329BFD06000880700241806180A0050003000201C6F7",
    ]
    seeds += [p.pdu.encode() for p in encode_submit("+420777123456", "Příliš žluťoučký " * 12)]

    def call(data: bytes) -> None:
        text = data.decode("latin-1")
        decode(text)
        decode(text, has_smsc=None)

    return Target("pdu", seeds, call, (PDUError,), "agent/modem/pdu.py decode: PDUError")


def _smsd_targets() -> list[Target]:
    from agent.spool import smstools_codec as codec

    seeds = _smsd_seeds()
    err = (codec.SpoolFileError,)
    doc = "agent/spool/smstools_codec.py: SpoolFileError"
    return [
        Target("smsd-sent", seeds, codec.parse_sent, err, doc),
        Target("smsd-failed", seeds, codec.parse_failed, err, doc),
        Target("smsd-incoming", seeds, codec.parse_incoming, err, doc),
    ]


def _smslib_target() -> Target:
    from agent.spool.smslib_line import SmslibConfig, SmslibLine, SmslibPending, _ref

    line = SmslibLine(
        "fuzz",
        SmslibConfig.from_account({"sqlURL": "sqlite://", "state_dir": "/nonexistent"}),
        lambda event: None,  # type: ignore[arg-type,return-value]
    )

    def waiting() -> None:
        # A job waiting for its report, so status-report rows take the matching path too.
        line._pending["j-1"] = SmslibPending(
            job_id="j-1",
            row_id=1,
            recipient="+420777123456",
            text="x",
            created=datetime(2026, 1, 1),
            report=True,
            sent_reported=True,
            message_ref=17,
        )

    waiting()
    names = ["type", "encoding", "originator", "text", "original_ref_no", "gateway_id"]

    def call(data: bytes) -> None:
        fields = _text(data).split("|")
        values = dict(zip(names, fields + [""] * len(names), strict=False))
        row = SimpleNamespace(
            id=1,
            message_date=None,
            receive_date=None,
            original_receive_date=None,
            **values,
        )
        line._inbound_event(row)
        _ref(values["original_ref_no"])
        if "j-1" not in line._pending:  # a report matched it and dropped it
            waiting()

    seeds = [
        b"I|7|+420777123456|Ahoj|| modem1",
        b"S|7|+420777123456|00 - Succesful Delivery.|17|modem1",
        b"S|7|420777123456|01 - Trying|17|modem1",
        b"I|8|+420777123456|48656C6C6F||modem1",
        b"S|U|+420777123456|64 - Failed|x17|*",
    ]
    return Target(
        "smslib-rows", seeds, call, (), "agent/spool/smslib_line.py rows to events: nothing"
    )


def _frame_target() -> Target:
    from bridge import protocol as p
    from bridge.agent_session import AgentSession
    from bridge.server_session import ServerSession

    seeds = [
        b'{"type":"hello","agent":"office-1","protocol":1,"lines":[{"name":"GSM1","kind":"modem"}]}',
        b'{"type":"welcome","protocol":1,"heartbeat_seconds":20.0}',
        b'{"type":"job","id":"m-1","line":"GSM1","to":"+420777123456","text":"Ahoj","report":true}',
        b'{"type":"config","line":"GSM1","gateway":"modem","config":{"device":"/dev/gsmmodem0"}}',
        b'{"type":"sent","event_id":1,"job_id":"m-1","at":"2026-11-26T10:00:00Z","parts":[{"part":1,"reference":3}]}',
        b'{"type":"received","event_id":2,"line":"GSM1","sender":"+1","text":"t","at":"2026-11-26T10:00:00Z","received_at":"2026-11-26T10:00:01+01:00"}',
        b'{"type":"event-ack","event_ids":[1,2,3]}',
        b'{"type":"lines","lines":["GSM1"]}',
        b'{"type":"error","code":"bad-frame","detail":"x"}',
        b'{"type":"ping","nonce":7}',
    ]
    welcome = p.encode(p.Welcome())
    hello = p.encode(p.Hello(agent="office-1"))

    def call(data: bytes) -> None:
        with contextlib.suppress(p.ProtocolError):
            p.decode(data)
        agent = AgentSession(p.Hello(agent="office-1"))
        agent.receive_data(welcome)
        agent.receive_data(data)
        agent.data_to_send()
        server = ServerSession("office-1")
        server.receive_data(hello)
        server.receive_data(data)
        server.data_to_send()

    return Target(
        "frames",
        seeds,
        call,
        (),
        "bridge/protocol.py decode: ProtocolError; both sessions: nothing",
    )


def _push_target() -> Target:
    from agent.bridge.allow_list import refusals
    from agent.lines.modem import _modem_config
    from agent.spool.smslib_line import SmslibConfig
    from agent.spool.smstools_line import SmstoolsConfig
    from bridge import protocol as p

    allow = ["/var/spool/sms/**", "/dev/gsmmodem*", "postgresql://db.local/smslib"]
    structs = {"smstools": SmstoolsConfig, "smslib": SmslibConfig}

    def call(data: bytes) -> None:
        try:
            push = p.decode(data)
        except p.ProtocolError:
            return
        if not isinstance(push, p.ConfigPush):
            return
        refusals(push.gateway, push.config, allow)
        cls = structs.get(push.gateway)
        if cls is not None:
            cls.from_account({**push.config, "state_dir": "/nonexistent"})
        else:
            _modem_config(push)

    seeds = [
        b'{"type":"config","line":"GSM1","gateway":"modem","config":{"device":"/dev/gsmmodem0","baudrate":"115200","pin":"1234"}}',
        b'{"type":"config","line":"S","gateway":"smstools","config":{"in":"/var/spool/sms/incoming","out":"/var/spool/sms/outgoing","report":"/var/spool/sms/report","settle_seconds":"2"}}',
        b'{"type":"config","line":"L","gateway":"smslib","config":{"sqlURL":"jdbc:postgresql://db.local/smslib","sqlDriver":"org.postgresql.Driver","batch":"10"}}',
        b'{"type":"config","line":"L","gateway":"smslib","config":{"sqlURL":"sqlite:////var/spool/sms/x.db?mode=ro"}}',
    ]
    return Target(
        "push",
        seeds,
        call,
        (msgspec.ValidationError, ValueError),
        "agent/bridge/allow_list.py, the lines' configs: ValidationError, ValueError",
    )


def _agent_toml_target() -> Target:
    from agent.config import ConfigError, parse_config

    seeds = [
        b'server = "ws://127.0.0.1:8765/agent"\nname = "office-1"\ntoken = "sba_x"\n'
        b'state_dir = "/tmp/x"\nallow = ["/dev/gsmmodem*", "/var/spool/sms/**"]\n'
    ]
    return Target(
        "agent-toml",
        seeds,
        lambda d: parse_config(_text(d)),
        (ConfigError,),
        "agent/config.py parse_config: ConfigError",
    )


def _server_targets() -> list[Target]:
    out: list[Target] = []
    try:
        from server.accounts.config import AccountConfigError, parse_config
        from server.gateways.o2 import protocol as o2
        from server.gateways.smsbrana import protocol as sb
        from sms.model import GatewayType
    except ImportError as exc:  # the server's dependencies are not installed here
        print(f"(server parsers skipped: {exc})", file=sys.stderr)
        return out
    sb_seeds = [
        b"<?xml version='1.0'?><result><err>0</err><price>1.1</price><sms_count>1</sms_count>"
        b"<credit>100.5</credit><sms_id>377351</sms_id></result>",
        b"<result><err>0</err><inbox><delivery_report><idsms>377351</idsms>"
        b"<time>20261126T101500</time><status>1</status></delivery_report>"
        b"<delivery_sms><number>420777123456</number><time>20261126T101600</time>"
        b"<message>Ahoj</message></delivery_sms></inbox></result>",
        b"<result><err>3</err></result>",
    ]
    o2_seeds = [
        b"Type=MSG\nCode=200\nDescription=OK\nRefMsgId=42\n",
        b"Type=DLR\nCode=200\nRefMsgId=42\nStatus=DELIVERED\nTimestamp=2026-11-26T10:15:00\n",
        b"Type=ERR\nCode=401\nDescription=bad\n continued\n",
    ]

    def o2_call(data: bytes) -> None:
        answer = o2.parse(_text(data))
        o2.verdict(200, answer)
        o2.kind_of(answer)
        o2.report_state(answer)

    def sb_call(data: bytes) -> None:
        try:
            sb.parse_answer(data)
        finally:
            sb.parse_inbox(data)

    out.append(
        Target(
            "smsbrana",
            sb_seeds,
            sb_call,
            (sb.ProtocolError,),
            "server/gateways/smsbrana/protocol.py answers: ProtocolError",
        )
    )
    out.append(
        Target(
            "o2", o2_seeds, o2_call, (), "server/gateways/o2/protocol.py parse, verdicts: nothing"
        )
    )
    gateways = list(GatewayType)
    cfg_seeds = [
        b"login = x\npassword = y\nurl = https://example.com/x\nhash = true",
        b"device = /dev/gsmmodem0\nbaudrate = 115200\npin = 1234\nagent = office-1\n"
        b"per_minute = 6\nline2.agent = office-1\nline2.device = /dev/gsmmodem1\n"
        b"fallback_after = 300",
        b"in = /var/spool/sms/incoming\nout = /var/spool/sms/outgoing\nmodem = GSM1\n"
        b"agent = office-1",
        b"sqlDriver = org.postgresql.Driver\nsqlURL = jdbc:postgresql://db/sms\nsqlUser = u\n"
        b"sqlPassword = p\ngatewayId = modem1\nagent = office-1",
        b"url = https://x/?to=[PHONE]&m=[MSG]",
    ]

    def cfg_call(data: bytes) -> None:
        gateway = gateways[data[0] % len(gateways)] if data else gateways[0]
        parse_config(gateway, _text(data), agents=["office-1"], fallbacks=["smsbrana"])

    out.append(
        Target(
            "account-config",
            cfg_seeds,
            cfg_call,
            (AccountConfigError,),
            "server/accounts/config.py parse_config: AccountConfigError",
        )
    )
    return out


def targets() -> list[Target]:
    return [
        _at_target(),
        _pdu_target(),
        *_smsd_targets(),
        _smslib_target(),
        _frame_target(),
        _push_target(),
        _agent_toml_target(),
        *_server_targets(),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1_000_000, help="inputs per parser")
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--only", default="", help="comma-separated parser names")
    ap.add_argument("--list", action="store_true", help="list the parsers and exit")
    args = ap.parse_args(argv)
    chosen = targets()
    if args.list:
        for t in chosen:
            print(f"{t.name:15} {t.doc}")
        return 0
    if args.only:
        wanted = set(args.only.split(","))
        chosen = [t for t in chosen if t.name in wanted]
    bad = 0
    print(f"{'parser':15} {'inputs':>10} {'seconds':>8} {'inputs/s':>10}  unexpected")
    for target in chosen:
        report = run(target, args.count, args.seed)
        bad += report.unexpected
        print(
            f"{report.name:15} {report.count:>10} {report.seconds:>8.1f} {report.rate:>10.0f}"
            f"  {report.unexpected}",
            flush=True,
        )
        for (kind, where), crash in report.crashes.items():
            print(f"    {kind} at {where} ({crash.times}x): {crash.message}")
            print(f"      reproducer: {crash.data!r}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
