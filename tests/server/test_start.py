"""First start and restarts: admin token, server key, settings, and the real `sms-server`."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from server import cli
from server.db.tables import User
from server.keys import SecretBox, ServerKeyError, load_or_create
from server.runtime import open_server
from server.settings import Settings, SettingsError, build
from tests.server.conftest import Database
from tests.server.live import sms_server


async def test_first_start_generates_an_admin_token_once(
    settings: Settings, engine: AsyncEngine, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMSBRIDGE_ADMIN_TOKEN", raising=False)
    async with open_server(settings, engine=engine) as first:
        token = first.new_admin_token
        assert token is not None and token.startswith("sbu_")
    async with open_server(settings, engine=engine) as second:
        assert second.new_admin_token is None
        async with second.sessions() as session:
            assert (await session.execute(select(func.count()).select_from(User))).scalar() == 1


async def test_admin_token_comes_from_the_environment(
    settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", "sbu_from-env-0123456789abcdef")
    async with open_server(settings, engine=engine) as server:
        assert server.new_admin_token is None  # nothing to print: the operator chose it
        async with server.sessions() as session:
            user = (await session.execute(select(User))).scalar_one()
    assert user.token_hash == hashlib.sha256(b"sbu_from-env-0123456789abcdef").hexdigest()


def test_server_key_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "smsbridge.key"
    first = load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    sealed = SecretBox(first).seal({"password": "pw"})
    assert SecretBox(load_or_create(path)).open(sealed) == {"password": "pw"}


def test_server_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "smsbridge.key"
    path.write_bytes(Fernet.generate_key())
    path.chmod(0o644)
    with pytest.raises(ServerKeyError, match=r"readable by others.*chmod 600"):
        load_or_create(path)


def test_garbage_server_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "smsbridge.key"
    path.write_bytes(b"not a key")
    path.chmod(0o600)
    with pytest.raises(ServerKeyError, match="not a valid key"):
        load_or_create(path)


def test_secrets_sealed_with_another_key_say_so() -> None:
    sealed = SecretBox(Fernet(Fernet.generate_key())).seal({"pin": "1234"})
    with pytest.raises(ServerKeyError, match="was the key file replaced"):
        SecretBox(Fernet(Fernet.generate_key())).open(sealed)


def test_default_settings_keep_everything_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = build({}, {})
    assert (settings.db, settings.host, settings.port) == (
        "sqlite:///smsbridge.sqlite",
        "127.0.0.1",
        8765,
    )
    assert settings.key_path() == tmp_path / "smsbridge.key"
    pg = build({}, {"db": "postgresql://postgres@db/sms"})
    assert pg.key_path() == tmp_path / "smsbridge.key"
    other = build({}, {"db": f"sqlite:///{tmp_path}/data/x.sqlite"})
    assert other.key_path() == tmp_path / "data" / "smsbridge.key"


def test_config_file_is_read_and_options_win(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text('db = "postgresql://h/db"\nport = 9000\nhost = "0.0.0.0"\n')
    args = cli.build_parser().parse_args(["--config", str(config), "--port", "9001"])
    settings = cli.settings_from(args)
    assert (settings.db, settings.host, settings.port) == ("postgresql://h/db", "0.0.0.0", 9001)


def test_config_file_with_an_unknown_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "server.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="prot"):
        cli.settings_from(cli.build_parser().parse_args(["--config", str(config)]))


def test_unusable_database_url_exits_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--db", "oracle://x/y"]) == 2
    assert "no async driver known for 'oracle'" in capsys.readouterr().err


def test_sms_server_starts_serves_and_keeps_its_data(tmp_path: Path) -> None:
    with sms_server(tmp_path) as live:
        assert live.token is not None
        headers = {"Authorization": f"Bearer {live.token}"}
        assert httpx.get(f"{live.url}/healthz").json()["status"] == "ok"
        r = httpx.post(
            f"{live.url}/api/messages", headers=headers, json={"to": "9000", "text": "x"}
        )
        assert r.status_code == 202
    assert (tmp_path / "smsbridge.sqlite").exists()
    assert (tmp_path / "smsbridge.key").stat().st_mode & 0o777 == 0o600

    # Restarted with two worker processes: same data, no second admin token.
    with sms_server(tmp_path, "--workers", "2") as again:
        assert again.token is None  # printed once, on the first start only
        # Workers may still be starting: the socket queues the requests meanwhile.
        with httpx.Client(base_url=again.url, headers=headers, timeout=60) as client:
            r = client.post("/api/messages", json={"to": "9001", "text": "y"})
            assert r.status_code == 202
            listed = client.get("/api/messages").json()["messages"]
        assert [m["to"] for m in listed] == ["9000", "9001"]


def test_unknown_log_level_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--log-level", "chatty"]) == 2
    assert "log_level" in capsys.readouterr().err


def test_unreachable_database_is_reported_not_traced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = str(tmp_path / "k")
    assert cli.main(["--db", "postgresql://nobody:secret@127.0.0.1:1/x", "--key-file", key]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "sms-server: cannot use the database postgresql://nobody:***@127.0.0.1:1/x"
    )
    assert "secret" not in err


def test_missing_database_driver_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--db", "mysql://root@127.0.0.1/x", "--key-file", str(tmp_path / "k")]) == 1
    assert "pip install" in capsys.readouterr().err


def test_behind_a_trusted_proxy_the_session_cookie_is_secure(tmp_path: Path) -> None:
    with sms_server(tmp_path) as live:
        plain = httpx.get(f"{live.url}/login")
        assert "secure" not in plain.headers["set-cookie"].lower()
        # A TLS-terminating proxy on this machine (trusted by default) says https.
        proxied = httpx.get(f"{live.url}/login", headers={"X-Forwarded-Proto": "https"})
        assert "secure" in proxied.headers["set-cookie"].lower()
