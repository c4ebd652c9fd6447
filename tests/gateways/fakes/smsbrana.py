"""A fake smsbrana.cz SMS Connect server following docs/smsbrana.md §5.

Served for real over HTTP by fakes/httpserver.py. It checks what the real service checks,
in the order of §5 (login → IP → time/salt/hash or password → action → send rules), and
has hooks for tests: inject incoming SMS, set credit, force error codes, advance its clock,
hold or delay answers, and drop an answer after processing the request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from .httpserver import DROP, Request, Response, serve

PRAGUE = ZoneInfo("Europe/Prague")
PATH = "/smsconnect/http.php"
EXTENSION = set("^{}\\[]~|€\f")
NUMBER = re.compile(r"^(?:\+|00)?(\d+)$")
ACTIONS = {"send_sms", "credit_info", "inbox", "xml_queue"}


@dataclass
class Sent:
    sms_id: int
    number: str
    message: str
    parts: int
    user_id: str | None
    data_code: str
    params: dict[str, str]


@dataclass
class FakeAccount:
    login: str
    password: str
    credit: float = 1000.0
    price: float = 1.1  # per part
    allowed_ips: set[str] = field(default_factory=lambda: {"*"})
    max_skew: float = 300.0  # seconds (§2.3, interpretation)
    used_salts: set[tuple[str, str]] = field(default_factory=set)  # (Prague date, salt)
    user_ids: set[str] = field(default_factory=set)
    sent: list[Sent] = field(default_factory=list)
    incoming: list[dict[str, str]] = field(default_factory=list)
    reports: list[dict[str, str]] = field(default_factory=list)


class FakeSmsbrana:
    def __init__(self) -> None:
        self.accounts: dict[str, FakeAccount] = {}
        self.lock = threading.Lock()
        self.offset = dt.timedelta()  # advance_clock moves the fake's time, not ours
        self.requests: list[Request] = []
        self.forced: list[int] = []  # next calls answer these codes, in order
        self.always: int | None = None  # every call answers this (8 = database down)
        self.drop_next = 0  # process, then lose the answer
        self.unavailable = 0  # next calls answer HTTP 503 without processing (an outage)
        self.delay = 0.0  # seconds before each answer: the service's own latency
        self.gate: threading.Event | None = None  # when set: answers wait until it is set
        self.report_status = 1  # status of the automatic delivery report
        self.next_sms_id = 377_000
        self.url = ""

    # --- test hooks ----------------------------------------------------------------
    def add_account(self, login: str, password: str, **kw: object) -> FakeAccount:
        account = FakeAccount(login, password, **kw)  # type: ignore[arg-type]
        self.accounts[login] = account
        return account

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance_clock(self, seconds: float) -> None:
        self.offset += dt.timedelta(seconds=seconds)

    def set_credit(self, login: str, credit: float) -> None:
        with self.lock:
            self.accounts[login].credit = credit

    def force_error(self, code: int, times: int = 1) -> None:
        with self.lock:
            self.forced.extend([code] * times)

    def inject_incoming(
        self, login: str, number: str, message: str, when: str | None = None
    ) -> None:
        stamp = when or self.now().astimezone(PRAGUE).strftime("%Y%m%dT%H%M%S")
        with self.lock:
            self.accounts[login].incoming.append(
                {"number": number, "time": stamp, "message": message}
            )

    def add_report(self, login: str, sms_id: int, status: int, number: str = "") -> None:
        stamp = self.now().astimezone(PRAGUE).strftime("%Y%m%dT%H%M%S")
        with self.lock:
            self.accounts[login].reports.append(
                {"idsms": str(sms_id), "number": number, "time": stamp, "status": str(status)}
            )

    def sent(self, login: str) -> list[Sent]:
        return list(self.accounts[login].sent)

    # --- the service -----------------------------------------------------------------
    def handle(self, request: Request) -> Response | object:
        if self.gate is not None:
            self.gate.wait(10)
        if self.delay:
            time.sleep(self.delay)  # simulated service latency (bench), not a wait for us
        if request.path != PATH:
            return Response(404, b"not found")
        with self.lock:
            if self.unavailable:
                self.unavailable -= 1
                return Response(503, b"<html>maintenance</html>", "text/html")
        with self.lock:
            self.requests.append(request)
            body = self._answer(request)
            if self.drop_next:
                self.drop_next -= 1
                return DROP
        return Response(200, body, "text/xml; charset=utf-8")

    def _answer(self, request: Request) -> bytes:
        p = request.params()
        if self.forced:
            return result(self.forced.pop(0))
        if self.always is not None:
            return result(self.always)
        account = self.accounts.get(p.get("login", ""))
        if account is None:
            return result(2)
        if "*" not in account.allowed_ips and request.client_ip not in account.allowed_ips:
            return result(5)
        err = self._authenticate(account, p)
        if err:
            return result(err)
        action = p.get("action", "")
        if action not in ACTIONS:
            return result(6)
        if action == "credit_info":
            return result(0, credit=f"{account.credit:.2f}")
        if action == "inbox":
            return self._inbox(account, p)
        if action == "send_sms":
            return self._send(account, p)
        return result(0)  # xml_queue: accepted (§3.4 interpretation); not used by us

    def _authenticate(self, account: FakeAccount, p: dict[str, str]) -> int:
        digest = p.get("auth") or p.get("hash")
        if digest is None:
            return 0 if p.get("password") == account.password else 3
        sent_time = p.get("time", "")
        when = parse_time(sent_time)
        if when is None or abs((when - self.now()).total_seconds()) > account.max_skew:
            return 4
        salt = p.get("sul") or p.get("salt") or ""
        day = self.now().astimezone(PRAGUE).date().isoformat()
        if not salt or len(salt) > 50 or (day, salt) in account.used_salts:
            return 7
        expected = hashlib.md5((account.password + sent_time + salt).encode()).hexdigest()
        if digest != expected:
            return 3
        account.used_salts.add((day, salt))
        return 0

    def _send(self, account: FakeAccount, p: dict[str, str]) -> bytes:
        number = p.get("number", "")
        m = NUMBER.match(number)
        intl = number.startswith(("+", "00"))
        if not m or not (11 <= len(m.group(1)) <= 15 if intl else len(m.group(1)) == 9):
            return result(10)
        text = p.get("message", "")
        if not text:
            return result(11)
        code = p.get("data_code", "7bit")
        length = len(text) + (sum(ch in EXTENSION for ch in text) if code != "ucs2" else 0)
        if length > 459:
            return result(12)
        user_id = p.get("user_id") or None
        if user_id is not None and user_id in account.user_ids:
            return result(-1)
        parts = count_parts(length, code)
        price = round(account.price * parts, 2)  # CZK: whole hellers, no float drift
        if round(account.credit, 2) < price:
            return result(9)
        account.credit = round(account.credit - price, 2)
        if user_id is not None:
            account.user_ids.add(user_id)
        self.next_sms_id += 1
        sms_id = self.next_sms_id
        account.sent.append(Sent(sms_id, number, text, parts, user_id, code, dict(p)))
        if p.get("delivery_report", "1") == "1" and self.report_status is not None:
            stamp = self.now().astimezone(PRAGUE).strftime("%Y%m%dT%H%M%S")
            account.reports.append(
                {
                    "idsms": str(sms_id),
                    "number": number,
                    "time": stamp,
                    "status": str(self.report_status),
                }
            )
        return result(
            0,
            price=f"{account.price:.2f}",
            sms_count=str(parts),
            credit=f"{account.credit:.2f}",
            sms_id=str(sms_id),
        )

    def _inbox(self, account: FakeAccount, p: dict[str, str]) -> bytes:
        incoming, reports = list(account.incoming), list(account.reports)
        delete = p.get("delete", "")
        if delete and delete != "0":
            # §3.3 (inferred): the answer carries the items, then they are gone.
            account.incoming.clear()
            account.reports.clear()
        return inbox_xml(incoming, reports)

    @contextmanager
    def running(self) -> Iterator[str]:
        with serve(self.handle) as base:
            self.url = base + PATH
            yield self.url


def count_parts(length: int, code: str) -> int:
    single, part = (70, 67) if code == "ucs2" else (160, 153)
    return 1 if length <= single else math.ceil(length / part)


def parse_time(raw: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(raw, "%Y%m%dT%H%M%S").replace(tzinfo=PRAGUE)
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def result(err: int, **fields: str) -> bytes:
    inner = "".join(f"<{k}>{escape(v)}</{k}>\n" for k, v in fields.items())
    head = "<?xml version='1.0' encoding='utf-8'?>\n<result>\n"
    return f"{head}<err>{err}</err>\n{inner}</result>\n".encode()


def _items(rows: list[dict[str, str]]) -> str:
    return "".join(
        "<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in row.items()) + "</item>"
        for row in rows
    )


def inbox_xml(incoming: list[dict[str, str]], reports: list[dict[str, str]]) -> bytes:
    return (
        "<?xml version='1.0' encoding='utf-8'?>\n<result><err>0</err><inbox>"
        f"<delivery_sms>{_items(incoming)}</delivery_sms>"
        f"<delivery_report>{_items(reports)}</delivery_report>"
        "</inbox></result>\n"
    ).encode()
