import pytest

from agent.bridge.allow_list import allowed, refusals
from agent.config import ConfigError, load_config, parse_config

GOOD = """
server = "ws://127.0.0.1:8765/agent"
name = "office-1"
token = "secret"
state_dir = "/tmp/x"
allow = ["/dev/gsmmodem*", "/var/spool/sms/**"]
"""


def test_a_good_config_parses():
    cfg = parse_config(GOOD)
    assert cfg.name == "office-1"
    assert str(cfg.socket_path) == "/tmp/x/agent.sock"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (GOOD.replace("ws://", "http://"), "ws:// or wss://"),
        (GOOD.replace('token = "secret"', 'token = ""'), "token must not be empty"),
        (GOOD.replace("secret", "PASTE-THE-AGENT-TOKEN-HERE"), "the example's placeholder"),
        (GOOD + "colour = 'red'\n", "unknown field `colour`"),
        (GOOD.replace('name = "office-1"', ""), "missing required field `name`"),
        (GOOD.replace('state_dir = "/tmp/x"', "state_dir = 5"), "$.state_dir"),
        ("server = ", "not valid TOML"),
    ],
)
def test_a_bad_config_says_what_is_wrong(text, words):
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    assert words in str(info.value)
    assert str(info.value).startswith("agent.toml")


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot read .*nope\.toml: No such file"):
        load_config(tmp_path / "nope.toml")


ALLOW = ["/dev/gsmmodem*", "/var/spool/sms/**"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("/dev/gsmmodem0", True),
        ("/dev/gsmmodem-huawei", True),
        ("/dev/ttyUSB0", False),
        ("/dev/gsmmodem0/../ttyS0", False),
        ("/var/spool/sms/outgoing", True),
        ("/var/spool/sms/a/b/c", True),
        ("/var/spool/sms/../../etc/passwd", False),
        ("/var/spool/smsx", False),
    ],
)
def test_allow_list_globs(value, ok):
    assert allowed(value, ALLOW) is ok


def test_refusals_name_the_key_and_value():
    config = {"in": "/var/spool/sms/incoming", "out": "/etc/cron.d", "modem": "GSM1"}
    assert refusals("smstools", config, ALLOW) == [
        "'out' = /etc/cron.d is outside this agent's allow-list"
    ]
    assert refusals("modem", {"device": "/dev/gsmmodem1"}, ALLOW) == []
