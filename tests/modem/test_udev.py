"""udev rules: syntax, the vendors' match keys, and the persistent numbering helper."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

UDEV = Path(__file__).resolve().parents[2] / "udev"
RULES = UDEV / "99-smsbridge-modems.rules"

VENDORS = {
    "12d1": "huawei",
    "19d2": "zte",
    "1e0e": "simcom",
    "2c7c": "quectel",
    "1199": "sierra",
    "1bc7": "telit",
    "1546": "ublox",
    "1e2d": "cinterion",
    "0681": "siemens",
    "0403": "ftdi",
    "067b": "prolific",
    "1a86": "ch340",
}
MATCH_KEYS = {"SUBSYSTEM", "SUBSYSTEMS", "ACTION", "ENV", "ATTRS", "KERNEL", "PROGRAM"}
ASSIGN_KEYS = {"ENV", "SYMLINK", "GROUP", "MODE", "IMPORT", "GOTO", "LABEL", "PROGRAM"}
TOKEN = re.compile(r'^([A-Z]+)(\{[A-Za-z_]+\})?(==|!=|\+=|:=|=)"([^"]*)"$')


def rules() -> list[list[tuple[str, str | None, str, str]]]:
    parsed = []
    for line in RULES.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        tokens = []
        for raw in line.split(", "):
            match = TOKEN.match(raw.strip())
            assert match, f"bad token {raw!r} in line {line!r}"
            key, attr, op, value = match.groups()
            tokens.append((key, attr[1:-1] if attr else None, op, value))
        parsed.append(tokens)
    return parsed


def test_every_token_is_valid_udev_syntax() -> None:
    for rule in rules():
        for key, _, op, _ in rule:
            if op in ("==", "!="):
                assert key in MATCH_KEYS, key
            else:
                assert key in ASSIGN_KEYS, key


def test_gotos_have_labels() -> None:
    tokens = [t for rule in rules() for t in rule]
    labels = {v for k, _, _, v in tokens if k == "LABEL"}
    assert {v for k, _, _, v in tokens if k == "GOTO"} <= labels


def test_each_vendor_is_matched_by_its_usb_vendor_id_and_has_an_at_port() -> None:
    named = {}
    at_ports = set()
    for rule in rules():
        conditions = {(k, a): v for k, a, op, v in rule if op == "=="}
        assigned = {(k, a): v for k, a, op, v in rule if op == "="}
        if ("ENV", "ID_VENDOR_ID") in conditions and ("ENV", "SMSBRIDGE_VENDOR") in assigned:
            named[conditions[("ENV", "ID_VENDOR_ID")]] = assigned[("ENV", "SMSBRIDGE_VENDOR")]
        if assigned.get(("ENV", "SMSBRIDGE_AT_PORT")) == "1":
            assert re.fullmatch(r"\d\d", conditions[("ENV", "ID_USB_INTERFACE_NUM")])
            at_ports.add(conditions[("ENV", "SMSBRIDGE_VENDOR")])
    assert named == VENDORS
    assert at_ports == set(VENDORS.values())


def test_modemmanager_is_told_to_ignore_the_ports() -> None:
    assert ("ENV", "ID_MM_DEVICE_IGNORE", "=", "1") in [t for r in rules() for t in r]


@pytest.mark.skipif(not shutil.which("flock"), reason="flock (util-linux) missing")
def test_modem_index_is_stable_and_reuses_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "SMSBRIDGE_UDEV_STATE": str(tmp_path / "index")}

    def index(key: str) -> str:
        helper = UDEV / "smsbridge-modem-index"
        return subprocess.run(
            [str(helper), key], env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    assert [index("12d1-A"), index("2c7c-B"), index("12d1-A"), index("1a86-C")] == [
        "0",
        "1",
        "0",
        "2",
    ]
