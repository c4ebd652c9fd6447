"""The account configuration text: parsed and checked per gateway (pure, no database)."""

from __future__ import annotations

import pytest

from server.accounts.config import (
    GATEWAY_KEYS,
    SET_MARK,
    AccountConfigError,
    default_config,
    parse_config,
    stored_values,
)
from sms.model import GatewayType

AGENTS = ("office-1",)


def problems(gateway: GatewayType, text: str, **kw: object) -> list[str]:
    with pytest.raises(AccountConfigError) as info:
        parse_config(gateway, text, agents=AGENTS, **kw)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def test_smsbrana_config_splits_the_password_from_the_shown_text() -> None:
    cfg = parse_config(GatewayType.SMSBRANA, "login = crm\npassword = s3cret\nhash = false")
    assert cfg.values == {"login": "crm", "hash": "false"}
    assert cfg.secrets == {"password": "s3cret"}
    assert cfg.text == "login = crm\npassword = (set)\nhash = false"
    assert "s3cret" not in cfg.text
    assert cfg.flag("hash", True) is False


def test_comments_and_blank_lines_are_kept_and_spacing_is_normalised() -> None:
    cfg = parse_config(GatewayType.URL, "# our gateway\n\n  url=https://x.cz/?n=[PHONE]&t=[MSG]  ")
    assert cfg.text == "# our gateway\n\nurl = https://x.cz/?n=[PHONE]&t=[MSG]"


def test_unknown_key_names_line_and_key() -> None:
    assert problems(GatewayType.SMSBRANA, "login = a\npassword = b\nuser = c") == [
        "line 3: unknown key 'user' for gateway smsbrana (login, password, url, hash, push)"
    ]


def test_missing_required_key_is_named() -> None:
    assert problems(GatewayType.SMSBRANA, "login = a") == [
        "missing required key 'password' for gateway smsbrana"
    ]


@pytest.mark.parametrize(
    ("url", "missing"),
    [
        ("https://x.cz/?t=[MSG]", "[PHONE]"),
        ("https://x.cz/?n=[PHONE]", "[MSG]"),
        ("https://x.cz/", "[PHONE] and [MSG]"),
    ],
)
def test_url_without_phone_and_msg_is_refused(url: str, missing: str) -> None:
    assert problems(GatewayType.URL, f"url = {url}") == [
        f"line 1: 'url' must contain [PHONE] and [MSG] (missing {missing})"
    ]


def test_url_template_must_be_http() -> None:
    [problem] = problems(GatewayType.URL, "url = ftp://x/[PHONE]/[MSG]")
    assert problem.startswith("line 1: 'url' must be an http:// or https:// URL")


def test_non_boolean_hash_is_refused() -> None:
    assert problems(GatewayType.SMSBRANA, "login = a\npassword = b\nhash = maybe") == [
        "line 3: 'hash' must be true or false, not 'maybe'"
    ]


@pytest.mark.parametrize("value", ["true", "FALSE", "yes", "no", "1", "0"])
def test_boolean_hash_spellings_are_accepted(value: str) -> None:
    parse_config(GatewayType.SMSBRANA, f"login = a\npassword = b\nhash = {value}")


def test_relative_smstools_path_is_refused() -> None:
    text = "in = /var/spool/sms/incoming\nout = spool/out\nmodem = GSM1\nagent = office-1"
    assert problems(GatewayType.SMSTOOLS, text) == [
        "line 2: 'out' must be an absolute path (starting with /), not 'spool/out'"
    ]


def test_unknown_agent_is_refused_with_the_known_ones() -> None:
    text = "device = /dev/gsmmodem0\nbaudrate = 115200\npin = \nagent = office-9"
    [problem] = problems(GatewayType.MODEM, text)
    assert problem.startswith("line 4: 'agent': unknown agent 'office-9' (known: office-1;")


def test_agent_backed_gateways_require_an_agent() -> None:
    text = "device = /dev/ttyUSB0\nconnection = at"
    assert problems(GatewayType.GAMMU, text) == ["missing required key 'agent' for gateway gammu"]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(GatewayType.SMSTOOLS, "in = rel\nbogus = 1\nagent = nobody")
    assert len(found) == 5  # relative in, unknown key, unknown agent, missing out and modem


def test_duplicate_key_names_the_first_line() -> None:
    assert problems(
        GatewayType.URL, "url = http://a/[PHONE][MSG]\nurl = http://b/[PHONE][MSG]"
    ) == ["line 2: 'url' is already set on line 1"]


def test_line_without_equals_sign() -> None:
    assert problems(GatewayType.URL, "url https://x") == [
        "line 1: expected 'key = value', got 'url https://x'",
        "missing required key 'url' for gateway url",
    ]


def test_secret_written_as_set_keeps_the_stored_one() -> None:
    cfg = parse_config(
        GatewayType.O2,
        f"id = 42\ncert = /etc/o2.p12\ncertPasswd = {SET_MARK}",
        stored_secrets={"certPasswd": "p12pass"},
    )
    assert cfg.secrets == {"certPasswd": "p12pass"}
    assert cfg.text.endswith(f"certPasswd = {SET_MARK}")


def test_secret_written_as_set_without_a_stored_one_is_refused() -> None:
    assert problems(GatewayType.O2, f"id = 42\ncert = /etc/o2.p12\ncertPasswd = {SET_MARK}") == [
        "line 3: 'certPasswd' says (set) but none is stored"
    ]


def test_bad_pin_error_does_not_repeat_the_secret() -> None:
    [problem] = problems(
        GatewayType.MODEM, "device = /dev/gsm0\nbaudrate = 9600\npin = 12x4\nagent = office-1"
    )
    assert "12x4" not in problem
    assert problem == "line 3: 'pin' must be empty (no PIN) or 4 to 8 digits"


def test_smslib_accepts_jdbc_driver_and_url() -> None:
    cfg = parse_config(
        GatewayType.SMSLIB,
        "sqlDriver = com.mysql.jdbc.Driver\nsqlURL = jdbc:mysql://db:3306/smslib\n"
        "sqlUser = sms\nsqlPassword = pw\ngatewayId = modem1\nagent = office-1",
        agents=AGENTS,
    )
    assert cfg.values["sqlDriver"] == "com.mysql.jdbc.Driver"
    assert cfg.secrets == {"sqlPassword": "pw"}


def test_smslib_refuses_an_unknown_driver_and_a_bare_url() -> None:
    found = problems(
        GatewayType.SMSLIB,
        "sqlDriver = com.example.Nope\nsqlURL = db:3306\nsqlUser = sms\nsqlPassword = \n"
        "gatewayId = g\nagent = office-1",
    )
    assert found[0].startswith("line 1: 'sqlDriver': unknown driver 'com.example.Nope'")
    assert found[1].startswith("line 2: 'sqlURL' must be a JDBC URL")


def test_modem_baudrate_must_be_a_number() -> None:
    [problem] = problems(
        GatewayType.MODEM, "device = /dev/gsm0\nbaudrate = fast\npin =\nagent = office-1"
    )
    assert problem == "line 2: 'baudrate' must be a positive whole number, not 'fast'"


@pytest.mark.parametrize("gateway", list(GatewayType))
def test_every_gateway_has_keys_and_a_default_text_naming_them(gateway: GatewayType) -> None:
    text = default_config(gateway)
    required = [k.name for k in GATEWAY_KEYS[gateway] if k.required]
    assert [line.split(" =")[0] for line in text.splitlines()] == required


def test_the_first_start_smsbrana_text_is_valid_with_empty_credentials() -> None:
    cfg = parse_config(GatewayType.SMSBRANA, default_config(GatewayType.SMSBRANA))
    assert cfg.text == "login = \npassword = "
    assert cfg.secrets == {"password": ""}


def test_stored_values_leave_secrets_out() -> None:
    assert stored_values("# c\nlogin = a\npassword = (set)\nhash = true") == {
        "login": "a",
        "hash": "true",
    }
