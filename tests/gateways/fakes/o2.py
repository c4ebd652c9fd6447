"""A fake O2 SMS Connector (HTTP GET/POST) following docs/o2.md
§5: HTTPS that requires a client certificate signed by the test CA, each accepted
certificate mapped to one BA ID, a FIFO receive/confirm queue per BA, send validation, and
test hooks. Error codes the spec does not know are invented and marked FAKE_*.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from .httpserver import Request, Response, serve

PATH = "/smsconnector/getpost/GP"
NUMBER = re.compile(r"^\+\d{8,15}$")
TRUE = {"true", "1"}
FALSE = {"false", "0", ""}
STATUS = {"FORMAT_ERROR": 400, "AUTHORIZATION_ERROR": 403, "APPL_ERROR": 400, "INTERNAL_ERROR": 500}


def p12_from(leaf: trustme.LeafCert, password: str) -> bytes:
    """The leaf's key and certificate as a password-protected PKCS#12, as O2 hands out."""
    key = serialization.load_pem_private_key(leaf.private_key_pem.bytes(), None)
    cert = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    return pkcs12.serialize_key_and_certificates(
        b"smsbridge-test",
        key,  # type: ignore[arg-type]
        cert,
        None,
        serialization.BestAvailableEncryption(password.encode()),
    )


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


@dataclass
class SentSms:
    ba_id: str
    params: dict[str, str]
    ref_msg_id: str


@dataclass
class FakeO2:
    ca: trustme.CA = field(default_factory=trustme.CA)
    ba_by_cert: dict[str, str] = field(default_factory=dict)
    queues: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    sent: list[SentSms] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    fail_next: int = 0  # next calls answer INTERNAL_ERROR
    fail_confirm: int = 0  # next confirms are lost (answer INTERNAL_ERROR, item stays)
    report_codes: tuple[str, ...] = ("ISUC_010", "ISUC_005")  # queued after a send
    delay: float = 0.0  # simulated latency (bench)
    lock: threading.Lock = field(default_factory=threading.Lock)
    seq: int = 2_900_000
    url: str = ""

    # --- certificates and test hooks ------------------------------------------------
    def issue_client(self, ba_id: str, folder: Path, password: str = "p12-pass") -> Path:
        """A client certificate for `ba_id`, saved as a PKCS#12 file; returns its path."""
        leaf = self.ca.issue_cert(f"ba{ba_id}.client.test")
        der = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).public_bytes(
            serialization.Encoding.DER
        )
        self.ba_by_cert[fingerprint(der)] = ba_id
        self.queues.setdefault(ba_id, [])
        path = folder / f"ba{ba_id}.p12"
        path.write_bytes(p12_from(leaf, password))
        return path

    def ca_file(self, folder: Path) -> Path:
        path = folder / "o2-test-ca.pem"
        self.ca.cert_pem.write_to_path(str(path))
        return path

    def new_id(self) -> str:
        self.seq += 1
        return f"ID-48555-{int(time.time() * 1000)}-1-{self.seq}"

    def inject_incoming(self, ba_id: str, from_number: str, text: str) -> str:
        msg_id = self.new_id()
        with self.lock:
            self.queues[ba_id].append(
                {
                    "selector": "TextSms",
                    "baID": ba_id,
                    "msgID": msg_id,
                    "fromNumber": from_number,
                    "toNumber": "+420720002125",
                    "text": text,
                    "timestamp": dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S"),
                }
            )
        return msg_id

    def add_report(self, ba_id: str, ref_msg_id: str, code: str) -> None:
        """A delivery report now: for reports that come late (set report_codes=())."""
        with self.lock:
            self._report(ba_id, ref_msg_id, code)

    def _report(self, ba: str, ref: str, code: str) -> None:
        self.queues[ba].append(
            {
                "selector": "Response",
                "responseType": "SUCCESS" if code.startswith("ISUC") else "APPL_ERROR",
                "responseCode": code,
                "responseDescription": f"report {code}",
                "baID": ba,
                "refBaID": ba,
                "msgID": self.new_id(),
                "refMsgID": ref,
                "timestamp": dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S"),
            }
        )

    # --- the service -------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if self.delay:
            time.sleep(self.delay)  # simulated service latency, not a wait for us
        if request.path != PATH:
            return Response(404, b"not found")
        with self.lock:
            self.requests.append(request)
            return self._answer(request)

    def _answer(self, request: Request) -> Response:
        p = request.params()
        if self.fail_next:
            self.fail_next -= 1
            return error("INTERNAL_ERROR", "FAKE_INTERNAL_001", "platform failure (test hook)")
        cert_ba = self.ba_by_cert.get(fingerprint(request.peer_cert or b""))
        if cert_ba is None or p.get("baID") != cert_ba:
            return error(
                "AUTHORIZATION_ERROR", "FAKE_AUTH_001", "baID does not match the certificate"
            )
        action = p.get("action", "")
        if action == "ping":
            return ok(cert_ba, "ISUC_000", "Ping OK")
        if action == "send":
            return self._send(cert_ba, p)
        if action == "receive":
            queue = self.queues[cert_ba]
            return Response(200, kv(queue[0]) if queue else b"")
        if action == "confirm" and self.fail_confirm:
            self.fail_confirm -= 1
            return error("INTERNAL_ERROR", "FAKE_INTERNAL_002", "confirm lost (test hook)")
        if action == "confirm":
            queue = self.queues[cert_ba]
            if queue and queue[0]["msgID"] == p.get("refMsgID") and p.get("refBaID") == cert_ba:
                queue.pop(0)
                return ok(cert_ba, "ISUC_002", "Confirm OK")
            return error("APPL_ERROR", "FAKE_APPL_002", "nothing to confirm with that refMsgID")
        return error("FORMAT_ERROR", "FAKE_FORMAT_003", f"unknown action {action!r}")

    def _send(self, ba: str, p: dict[str, str]) -> Response:
        if not NUMBER.match(p.get("toNumber", "")):
            return error("FORMAT_ERROR", "FAKE_FORMAT_001", "toNumber must be + and 8-15 digits")
        text = p.get("text", "")
        if not text:
            return error("FORMAT_ERROR", "FAKE_FORMAT_002", "empty text")
        flags = {}
        for name in ("multipart", "deliveryReport", "intruder"):
            raw = p.get(name, "").lower()
            if raw not in TRUE | FALSE:
                return error("FORMAT_ERROR", "FAKE_FORMAT_004", f"{name} must be a boolean")
            flags[name] = raw in TRUE
        if len(text) > 900 or (len(text) > 160 and not flags["multipart"]):
            return error("APPL_ERROR", "FAKE_APPL_001", "text too long")
        ref = self.new_id()
        self.sent.append(SentSms(ba, dict(p), ref))
        if flags["deliveryReport"]:
            for code in self.report_codes:
                self._report(ba, ref, code)
        return ok(ba, "ISUC_001", "Send request successfully processed", refMsgID=ref)

    def server_context(self) -> ssl.SSLContext:
        """TLS for the fake: its own certificate for 127.0.0.1, client certificate required."""
        server_cert = self.ca.issue_cert("127.0.0.1")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_cert.configure_cert(context)
        self.ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
        return context

    @contextmanager
    def running(self) -> Iterator[str]:
        with serve(self.handle, tls=self.server_context()) as base:
            self.url = base + PATH
            yield self.url


def kv(fields: dict[str, str]) -> bytes:
    return "".join(f"{k}={v}\n" for k, v in fields.items()).encode()


def ok(ba: str, code: str, text: str, **extra: str) -> Response:
    body = {
        "selector": "Response",
        "responseType": "SUCCESS",
        "responseCode": code,
        "responseDescription": text,
        "baID": ba,
        "refBaID": ba,
        "msgID": f"ID-R-{time.time_ns()}",
        "timestamp": dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S"),
    } | extra
    return Response(200, kv(body))


def error(kind: str, code: str, text: str) -> Response:
    body = {"responseType": kind, "responseCode": code, "responseDescription": text}
    return Response(STATUS[kind], kv(body))
