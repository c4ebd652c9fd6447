"""deploy/install.sh stages a real installation, and systemd accepts its units."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import ConfigError, load_config
from server.settings import build, load_file

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "deploy" / "install.sh"
VENV = Path(sys.prefix)  # the environment running the tests


def install(root: Path, what: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(INSTALL), "--root", str(root), "--venv", str(VENV), what],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    done = install(tmp_path, "both")
    assert done.returncode == 0, done.stderr
    return tmp_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_stages_units_rules_and_configurations(staged: Path) -> None:
    etc = staged / "etc"
    assert (etc / "systemd/system/sms-agent.service").is_file()
    assert (etc / "systemd/system/sms-server.service").is_file()
    assert (etc / "udev/rules.d/99-smsbridge-modems.rules").is_file()
    index = staged / "usr/local/lib/smsbridge/smsbridge-modem-index"
    assert os.access(index, os.X_OK)
    # The rules call the index helper where the installer put it.
    assert (
        str(index.relative_to(staged))
        in (etc / "udev/rules.d/99-smsbridge-modems.rules").read_text()
    )
    # The agent's file holds its token, the server's environment the admin token.
    assert mode(etc / "smsbridge/agent.toml") == 0o640
    assert mode(etc / "smsbridge/server.env") == 0o600
    assert os.access(staged / "opt/smsbridge/bin/sms-agent", os.X_OK)


def test_example_configurations_are_valid(staged: Path) -> None:
    example = staged / "etc/smsbridge/agent.toml"
    # Valid but for the token, which the technician must paste in; the agent says so.
    with pytest.raises(ConfigError, match="placeholder"):
        load_config(example)
    example.write_text(example.read_text().replace("PASTE-THE-AGENT-TOKEN-HERE", "sba_x"))
    agent = load_config(example)
    assert agent.state_dir == "/var/lib/smsbridge"
    assert "/dev/gsmmodem*" in agent.allow
    settings = build(load_file(staged / "etc/smsbridge/server.toml"), {})
    assert settings.key_file == "/var/lib/smsbridge-server/smsbridge.key"


def test_an_edited_configuration_is_never_overwritten(staged: Path) -> None:
    mine = staged / "etc/smsbridge/agent.toml"
    mine.write_text('server = "ws://mine:8765/agent"\nname = "x"\ntoken = "t"\n')
    again = install(staged, "agent")
    assert again.returncode == 0, again.stderr
    assert "keeping the existing /etc/smsbridge/agent.toml" in again.stdout
    assert load_config(mine).server == "ws://mine:8765/agent"


def test_agent_only_installs_no_server_unit(tmp_path: Path) -> None:
    assert install(tmp_path, "agent").returncode == 0
    assert (tmp_path / "etc/systemd/system/sms-agent.service").is_file()
    assert not (tmp_path / "etc/systemd/system/sms-server.service").exists()
    assert not (tmp_path / "etc/smsbridge/server.toml").exists()


def test_bad_arguments_say_what_is_wrong(tmp_path: Path) -> None:
    nothing = install(tmp_path, "--bogus")
    assert nothing.returncode == 2
    assert "unknown argument '--bogus'" in nothing.stderr


@pytest.mark.peer("systemd-analyze")
def test_systemd_accepts_the_units(staged: Path) -> None:
    # verify --root needs systemd's own units (sysinit.target, ...) inside the root.
    shutil.copytree("/usr/lib/systemd", staged / "usr/lib/systemd", symlinks=True)
    verify = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            f"--root={staged}",
            "sms-agent.service",
            "sms-server.service",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # verify prints warnings (an unknown key, a typo'd section) without always failing.
    assert verify.returncode == 0, verify.stderr
    assert verify.stderr.strip() == "", verify.stderr


@pytest.mark.peer("systemd-analyze")
@pytest.mark.parametrize("unit", ["sms-agent.service", "sms-server.service"])
def test_units_are_hardened(staged: Path, unit: str) -> None:
    shutil.copytree("/usr/lib/systemd", staged / "usr/lib/systemd", symlinks=True)
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", f"--root={staged}", unit],
        capture_output=True,
        text=True,
        timeout=60,
    )
    overall = [line for line in security.stdout.splitlines() if "Overall exposure" in line]
    assert overall, security.stdout + security.stderr
    exposure = float(overall[0].split(":")[1].split()[0])
    assert exposure <= 2.0, overall[0]  # systemd's scale: 0 (locked down) .. 10 (exposed)
