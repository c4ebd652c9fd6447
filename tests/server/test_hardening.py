"""The server's own hygiene (issue #19, item 12): no token or URL credential in a log
line at any level, a SQLite database only its owner can read, no weak admin token, and
/metrics only for loopback clients or the holder of `metrics_token`."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import msgspec
import websockets
from litestar import Litestar

from bridge import protocol as p
from server.logs import JsonFormatter
from server.redact import redact
from server.runtime import Server
from tests.waiting import eventually

from .conftest import Api

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "sbu_hardening-admin-token-0123456789"


def test_tokens_and_url_credentials_are_redacted_from_any_text() -> None:
    line = (
        "> Authorization: Bearer sba_Zx9secret-agent-token; GET "
        "http://joe:pa55word@gw.example/send?to=1&key=k3y&apikey=a1&text=hi "
        "user sbu_AAAAAAAAAAAA"
    )
    out = redact(line)
    for secret in ("Zx9secret-agent-token", "pa55word", "k3y", "a1&", "AAAAAAAAAAAA"):
        assert secret not in out
    assert "http://joe:[redacted]@gw.example/send?to=1&key=[redacted]&apikey=" in out
    assert "text=hi" in out  # what is not a credential stays readable


def test_every_log_line_is_redacted_whatever_its_level() -> None:
    record = logging.LogRecord(
        "httpx",
        logging.DEBUG,
        __file__,
        1,
        "HTTP Request: GET %s",
        ("https://a:b@h/?password=pw",),
        None,
    )
    out = json.loads(JsonFormatter().format(record))
    assert out["msg"] == "HTTP Request: GET https://a:[redacted]@h/?password=[redacted]"


def _start(tmp_path: Path, *args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], Path]:
    log = tmp_path / "stderr.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "--port", "0", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stderr=log.open("w"),
        text=True,
    )
    return proc, log


def _url(log: Path) -> str | None:
    for line in log.read_text().splitlines():
        if "Uvicorn running on" in line:
            return json.loads(line)["msg"].split("running on ")[1].split(" ")[0]
    return None


async def test_a_debug_log_holds_no_token_and_no_url_password(tmp_path: Path) -> None:
    proc, log = _start(tmp_path, "--log-level", "debug", env={"SMSBRIDGE_ADMIN_TOKEN": ADMIN})
    try:
        url = await eventually(lambda: _url(log), what="sms-server to listen")
        async with httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10
        ) as api:
            token = (await api.post("/api/agents", json={"name": "office-1"})).json()["token"]
            # The gateway is the server's own /healthz: a real HTTP answer, logged by httpx.
            here = url.removeprefix("http://")
            gateway = f"http://joe:s3cretpw@{here}/healthz?to=[PHONE]&text=[MSG]&key=k3yk3y"
            body = {"name": "Web", "gateway": "url", "config": f"url = {gateway}"}
            r = await api.post("/api/accounts", json=body)
            assert r.status_code == 201, r.text
            account = r.json()["id"]
            r = await api.post(
                "/api/messages", json={"to": "9000", "text": "x", "account": account}
            )
            assert r.status_code == 202, r.text
            mid = r.json()["id"]

            async def tried() -> bool:
                return (await api.get(f"/api/messages/{mid}")).json()["state"] != "queued"

            await eventually(tried, what="the URL gateway to send it")
            ws_url = url.replace("http://", "ws://") + "/agent"
            async with websockets.connect(
                ws_url, additional_headers={"Authorization": f"Bearer {token}"}
            ) as ws:
                await ws.send(p.encode(p.Hello(agent="office-1")).decode())
                await ws.recv()
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    text = log.read_text()
    assert '"level": "debug"' in text  # it did log at debug
    for secret in (ADMIN, token, "s3cretpw", "k3yk3y"):
        assert secret not in text, f"{secret[:6]}… is in the log"
    assert (tmp_path / "smsbridge.sqlite").stat().st_mode & 0o777 == 0o600


def test_a_short_admin_token_is_refused_with_a_sentence(tmp_path: Path) -> None:
    proc, log = _start(tmp_path, env={"SMSBRIDGE_ADMIN_TOKEN": "sbu_short"})
    assert proc.wait(timeout=30) == 1
    assert "SMSBRIDGE_ADMIN_TOKEN has 9 characters; it must have at least 24" in log.read_text()
    assert not (tmp_path / "smsbridge.sqlite").exists()  # refused before anything is made


async def test_metrics_are_for_loopback_clients_or_the_metrics_token(
    api: Api, server: Server, app: Litestar
) -> None:
    assert (await api.get("/metrics", token=None)).status_code == 200  # 127.0.0.1
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://smsbridge.test") as far:
        r = await far.get("/metrics")
        assert r.status_code == 403
        assert "metrics_token" in r.json()["detail"]
        server.settings = msgspec.structs.replace(server.settings, metrics_token="m" * 32)
        assert (await far.get("/metrics")).status_code == 401
        wrong = {"Authorization": "Bearer " + "x" * 32}
        assert (await far.get("/metrics", headers=wrong)).status_code == 401
        right = {"Authorization": "Bearer " + "m" * 32}
        assert (await far.get("/metrics", headers=right)).status_code == 200
    assert (await api.get("/metrics", token=None)).status_code == 401  # loopback too, now
