"""The agent's allow-list against a hostile server: every key that names a path, device
or database is checked, unknown keys are refused, and no pushed value escapes `allow`
(a hypothesis property over every key the lines accept)."""

from __future__ import annotations

import ast
import os
from pathlib import Path
from types import ModuleType

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agent.lines.modem
import agent.lines.modem_care
from agent.bridge.allow_list import AGENT_OWN_KEYS, PUSHED_KEYS, Kind, refusals
from agent.spool.smslib_line import SmslibConfig
from agent.spool.smslib_url import sqlalchemy_url
from agent.spool.smstools_line import SmstoolsConfig

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """root/allowed/{in,out}, root/outside/, a symlink inside allowed to outside, and
    device names: a plain one, one leading to a file outside, one to /dev/null."""
    root = tmp_path / "root"
    for d in ("allowed/in", "allowed/out", "outside", "dev"):
        (root / d).mkdir(parents=True)
    (root / "outside" / "secret").write_text("x")
    (root / "allowed" / "link").symlink_to(root / "outside")
    (root / "dev" / "modem0").write_text("")
    (root / "dev" / "modem-link").symlink_to(root / "outside" / "secret")
    (root / "dev" / "modem-null").symlink_to("/dev/null")
    return root


def allow_of(root: Path) -> list[str]:
    return [
        f"{root}/allowed/**",
        f"{root}/dev/modem*",
        "postgresql://db.local/smslib",
        "jdbc:mysql://10.0.0.5:3306/*",
    ]


def inside(root: Path, value: str) -> bool:
    """Where the line will really go: the value made absolute as the line does
    (os.path.abspath), every symlink followed."""
    real = os.path.realpath(os.path.abspath(value))
    top = os.path.realpath(root)
    return any(real.startswith(f"{top}/{d}/") for d in ("allowed", "dev")) or os.path.realpath(
        real
    ) == os.path.realpath("/dev/null")


# --- the declaration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gateway", "cls"), [("smstools", SmstoolsConfig), ("smslib", SmslibConfig)]
)
def test_every_key_a_spool_line_accepts_is_declared(gateway, cls):
    accepted = {f.encode_name for f in msgspec.structs.fields(cls)} - AGENT_OWN_KEYS
    assert set(PUSHED_KEYS[gateway]) == accepted


def _keys_read(function: str | None, module: ModuleType = agent.lines.modem) -> set[str]:
    """The string keys `function` (None: the whole module) of `module` reads with
    `.get("key")`."""
    tree = ast.parse(Path(module.__file__ or "").read_text())
    if function is None:
        node: ast.AST = tree
    else:
        (node,) = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function
        ]
    return {
        call.args[0].value
        for call in ast.walk(node)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "get"
        and call.args
        and isinstance(call.args[0], ast.Constant)
    }


def test_every_key_the_modem_lines_read_is_declared():
    # The modem lines have no config Struct: read the keys from their code instead.
    modem = _keys_read("_modem_config")
    assert modem and modem <= set(PUSHED_KEYS["modem"])
    assert modem | _keys_read("gammu_line") <= set(PUSHED_KEYS["gammu"])
    care = _keys_read(None, agent.lines.modem_care)  # recovery, balance, calls
    assert care and care <= set(PUSHED_KEYS["modem"])


def test_the_keys_that_name_places_are_checked():
    kinds = {
        g: {k for k, v in keys.items() if v is not Kind.VALUE} for g, keys in PUSHED_KEYS.items()
    }
    assert kinds == {
        "modem": {"device"},
        "gammu": {"device"},
        "smstools": {"in", "out", "sent", "failed", "report", "archive"},
        "smslib": {"sqlURL"},
    }


# --- examples of the audit's findings ----------------------------------------------------


def test_report_and_archive_outside_allow_are_refused(tree):
    config = {
        "in": f"{tree}/allowed/in",
        "out": f"{tree}/allowed/out",
        "report": f"{tree}/outside",
        "archive": "/elsewhere",
    }
    assert refusals("smstools", config, allow_of(tree)) == [
        f"'report' = {tree}/outside is outside this agent's allow-list",
        "'archive' = /elsewhere is outside this agent's allow-list",
    ]


def test_unknown_and_agent_keys_are_refused_by_name(tree):
    config = {"in": f"{tree}/allowed/in", "out": f"{tree}/allowed/out", "spool": "/x"}
    assert refusals("smstools", config, allow_of(tree)) == [
        "unknown key 'spool' for a smstools line"
    ]
    assert refusals(
        "modem", {"device": f"{tree}/dev/modem0", "state_dir": "/tmp"}, allow_of(tree)
    ) == ["'state_dir' is set by the agent, not by the server"]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "'in' is empty"),
        ("~/spool", "must be an absolute path"),
        ("relative/in", "must be an absolute path"),
        (" {root}/allowed/in", "must be an absolute path"),
        ("{root}/allowed/in\x00", "control character"),
        ("{root}/allowed/../outside", "must not contain '..'"),
        ("{root}/allowed/link", "leads to {root}/outside"),
        ("{root}/allowed/link/deeper", "leads to {root}/outside/deeper"),
        ("{root}/allowed/.. ", "spaces around it"),
        ("/etc", "outside this agent's allow-list"),
    ],
)
def test_hostile_directories_are_refused(tree, value, words):
    why = refusals(
        "smstools", {"in": value.format(root=tree), "out": f"{tree}/allowed/out"}, allow_of(tree)
    )
    assert len(why) == 1 and words.format(root=tree) in why[0]


def test_a_device_symlink_may_lead_to_a_character_device_only(tree):
    allow = allow_of(tree)
    assert refusals("modem", {"device": f"{tree}/dev/modem-null"}, allow) == []
    (why,) = refusals("modem", {"device": f"{tree}/dev/modem-link"}, allow)
    assert "leads to" in why


def test_secrets_never_appear_in_a_reason(tree):
    why = refusals(
        "smslib", {"sqlURL": "jdbc:nope://u:hunter2@x/y", "sqlPassword": "hunter2"}, allow_of(tree)
    )
    assert why and "hunter2" not in " ".join(why)


# --- sqlURL: the parsed URL, not the text ------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://db.local/smslib",
        "postgresql+pg8000://sms@db.local:5432/smslib",
        "jdbc:postgresql://DB.local/smslib",
        "jdbc:mysql://10.0.0.5/smsserver?useSSL=false&characterEncoding=utf8",
        "mysql+pymysql://u@10.0.0.5:3306/x?charset=utf8mb4",
        "sqlite:///{root}/allowed/sms.db",
        "jdbc:sqlite:{root}/allowed/sms.db",
    ],
)
def test_allowed_databases(tree, url):
    assert refusals("smslib", {"sqlURL": url.format(root=tree)}, allow_of(tree)) == []


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite:///{root}/allowed/../X.db", "'..'"),
        ("jdbc:sqlite:{root}/allowed/../X.db", "'..'"),
        ("sqlite:///{root}/allowed/link/X.db", "leads to"),
        ("sqlite:///relative.db", "absolute path"),
        ("sqlite://", "must name an SQLite database file"),
        ("postgresql://db.local/smslib?host=evil.example", "option host"),
        ("postgresql+pg8000://db.local/smslib?port=6543", "option port"),
        ("mysql+pymysql://10.0.0.5/x?unix_socket=/tmp/evil.sock", "option unix_socket"),
        ("jdbc:mysql://10.0.0.5/x?host=evil", "option host"),
        ("postgresql://db.local:6543/smslib", "on db.local:6543"),
        ("postgresql://evil.example/smslib", "on evil.example:5432"),
        ("postgresql://db.local/other", "'other'"),
        ("jdbc:postgresql://10.0.0.5:3306/x", "postgresql database"),
        (" postgresql://db.local/smslib", "spaces"),
    ],
)
def test_hostile_databases_are_refused(tree, url, words):
    (why,) = refusals("smslib", {"sqlURL": url.format(root=tree)}, allow_of(tree))
    assert words in why


# --- the property: nothing escapes ---------------------------------------------------------

SEGMENTS = [
    "allowed",
    "outside",
    "link",
    "in",
    "..",
    ".",
    "",
    "dev",
    "modem0",
    "modem-link",
    "modem-null",
    "secret",
    ".. ",
    " ..",
    "x\x00y",
    "~",
    "*",
    " ",
    "a b",
]


def path_values(root: Path) -> st.SearchStrategy[str]:
    prefixes = st.sampled_from(
        [
            "",
            "/",
            f"{root}/",
            f"{root}/allowed/",
            f"{root}/allowed/",
            f"{root}/dev/",
            "~/",
            " ",
            "//",
        ]
    )
    tails = st.lists(st.sampled_from(SEGMENTS), max_size=6).map("/".join)
    one = st.sampled_from(SEGMENTS)  # a short value is where one bad segment shows
    return st.one_of(
        st.builds(lambda a, b: a + b, prefixes, tails),
        st.builds(lambda a, b: a + b, prefixes, one),
        st.text(max_size=30),
    )


@FAST
@given(data=st.data())
def test_no_pushed_path_escapes_allow(tree, data):
    allow = allow_of(tree)
    gateway = data.draw(st.sampled_from(sorted(PUSHED_KEYS)))
    keys = PUSHED_KEYS[gateway]
    path_keys = [k for k, kind in keys.items() if kind in (Kind.DIRECTORY, Kind.DEVICE)]
    config = data.draw(
        st.dictionaries(
            st.sampled_from([*keys, *AGENT_OWN_KEYS, "spool", "Device", "in "]),
            path_values(tree),
            max_size=4,
        )
    )
    if not refusals(gateway, config, allow):
        assert set(config) <= set(keys)
        for key in path_keys:
            if key in config:  # as smstools takes it, and as the modem line (stripped)
                assert inside(tree, config[key]), (key, config[key])
                assert inside(tree, config[key].strip()), (key, config[key])


PATH_KEYS = [
    (gateway, key)
    for gateway, keys in sorted(PUSHED_KEYS.items())
    for key, kind in keys.items()
    if kind in (Kind.DIRECTORY, Kind.DEVICE)
]


@pytest.mark.parametrize(("gateway", "key"), PATH_KEYS)
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_value_of_a_path_key_escapes_allow(tree, gateway, key, data):
    value = data.draw(path_values(tree))
    if not refusals(gateway, {key: value}, allow_of(tree)):
        assert inside(tree, value) and inside(tree, value.strip()), value


def sql_urls(root: Path) -> st.SearchStrategy[str]:
    server = st.builds(
        lambda scheme, host, port, db, query: f"{scheme}://{host}{port}/{db}{query}",
        st.sampled_from(
            [
                "postgresql",
                "postgresql+pg8000",
                "jdbc:postgresql",
                "mysql+pymysql",
                "jdbc:mysql",
                "jdbc:mariadb",
                "mssql+pytds",
            ]
        ),
        st.sampled_from(["db.local", "DB.LOCAL", "10.0.0.5", "evil.example", "u:p@db.local", ""]),
        st.sampled_from(["", ":5432", ":3306", ":6543", ":0"]),
        st.sampled_from(["smslib", "x", "", "smslib/../y"]),
        st.sampled_from(
            [
                "",
                "?charset=utf8",
                "?host=evil",
                "?port=1",
                "?unix_socket=/s",
                "?HOST=evil",
                "?charset=x&host=evil",
                "?hostaddr=1.2.3.4",
            ]
        ),
    )
    sqlite = st.builds(
        lambda scheme, path: scheme + path,
        st.sampled_from(["sqlite:///", "sqlite:////", "jdbc:sqlite:", "sqlite+pysqlite:///"]),
        path_values(root),
    )
    return st.one_of(server, sqlite, st.text(max_size=40))


@FAST
@given(data=st.data())
def test_no_pushed_database_escapes_allow(tree, data):
    url = data.draw(sql_urls(tree))
    if refusals("smslib", {"sqlURL": url}, allow_of(tree)):
        return
    parsed = sqlalchemy_url(None, url)
    if parsed.get_backend_name() == "sqlite":
        assert inside(tree, parsed.database), url
        return
    assert set(parsed.query) <= {"charset"}, url
    target = (parsed.get_backend_name(), (parsed.host or "").lower(), parsed.port)
    assert target in {
        ("postgresql", "db.local", None),
        ("postgresql", "db.local", 5432),
        ("mysql", "10.0.0.5", 3306),
        ("mysql", "10.0.0.5", None),
    }, url
    if target[0] == "postgresql":
        assert parsed.database == "smslib"


@pytest.mark.parametrize(
    ("entry", "url"),
    [
        ("postgresql://db.example.lan/smslib", "jdbc:postgresql://db.example.lan/smslib"),
        ("jdbc:mysql://10.0.0.5:3306/*", "jdbc:mariadb://10.0.0.5/smsserver"),
        ("mssql://sqlhost:*/smsserver", "jdbc:sqlserver://sqlhost:14330;databaseName=smsserver"),
        ("/var/lib/smslib/**", "jdbc:sqlite:/var/lib/smslib/sms.db"),
    ],
)
def test_the_examples_in_agent_toml_example_work(entry, url):
    assert refusals("smslib", {"sqlURL": url}, [entry]) == []
    assert refusals("smslib", {"sqlURL": url}, ["/dev/gsmmodem*"]) != []


def test_an_sqlite_file_may_also_be_allowed_by_its_url(tree):
    db = f"{tree}/allowed/sms.db"
    for entry in (f"sqlite:///{db}", f"jdbc:sqlite:{db}"):
        assert refusals("smslib", {"sqlURL": f"jdbc:sqlite:{db}"}, [entry]) == []
        assert refusals("smslib", {"sqlURL": f"sqlite:///{tree}/outside/x.db"}, [entry]) != []
        assert refusals("smstools", {"in": db, "out": db}, [entry]) != []  # not a path rule


def test_an_allowed_folder_reached_through_a_symlink_keeps_working(tree):
    (tree / "alias").symlink_to(tree / "allowed")
    allow = [f"{tree}/alias/**"]
    assert refusals("smstools", {"in": f"{tree}/alias/in", "out": f"{tree}/alias/out"}, allow) == []
    (why,) = refusals("smstools", {"in": f"{tree}/alias/link", "out": f"{tree}/alias/out"}, allow)
    assert "leads to" in why
