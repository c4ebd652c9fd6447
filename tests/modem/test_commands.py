"""Technician commands against the virtual modem: human output, JSON, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agent.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_probe_prints_status_and_is_healthy(virtual, capsys: pytest.CaptureFixture[str]) -> None:
    vm = virtual()
    assert main(["probe", vm.path, "--timeout", "1"]) == 0
    out = capsys.readouterr().out
    assert "IMEI          356938035643809" in out and "healthy" in out


def test_probe_json_names_problems_and_exits_1(virtual, capsys) -> None:
    vm = virtual(registration=3, rssi=1)
    assert main(["probe", vm.path, "--json", "--timeout", "1"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["healthy"] is False
    assert "not registered: registration denied" in data["problems"]


def test_probe_without_pin_says_what_to_do(virtual, capsys) -> None:
    vm = virtual(pin="1234")
    assert main(["probe", vm.path, "--timeout", "1"]) == 2
    assert "SIM PIN required (set 'pin' in the account)" in capsys.readouterr().err


def test_probe_of_a_missing_device_exits_2(capsys) -> None:
    assert main(["probe", "/nonexistent/tty", "--timeout", "0.2"]) == 2
    assert "cannot open /nonexistent/tty" in capsys.readouterr().err


def test_send_with_report_prints_each_step(virtual, capsys) -> None:
    vm = virtual()
    assert main(["send", vm.path, "+420777123456", "Ahoj", "--report", "--wait", "3"]) == 0
    out = capsys.readouterr().out
    assert "message reference 1" in out and "delivered" in out
    assert vm.submissions[0].submit.report_requested


def test_send_json_steps_and_failure_exit_code(virtual, capsys) -> None:
    vm = virtual(cms_error_rate=1.0, cms_error_code=21)
    assert main(["send", vm.path, "+420777123456", "Ahoj", "--json", "--timeout", "1"]) == 1
    steps = [json.loads(line)["step"] for line in capsys.readouterr().out.splitlines()]
    assert steps == ["open", "ready", "part", "failed"]


def test_modems_lists_a_device_that_answers(virtual, capsys) -> None:
    vm = virtual()
    assert main(["modems", "--device", vm.path, "--json", "--timeout", "0.5"]) == 0
    [port] = [p for p in json.loads(capsys.readouterr().out) if p["device"] == vm.path]
    assert port["imei"] == "356938035643809" and port["signal_bars"] == 4
    assert port["family"] == "generic 27.007 modem"


@pytest.mark.parametrize("command", ["modems", "probe", "send", "ussd", "virtual-modem"])
def test_every_command_has_help_with_examples(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_virtual_modem_command_prints_its_path_and_takes_control_lines(tmp_path) -> None:
    link = tmp_path / "gsm"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "virtual-modem", "--link", str(link), "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert json.loads(proc.stdout.readline()) == {"device": str(link)}
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_probe_without_sim_says_so(virtual, capsys) -> None:
    vm = virtual(no_sim=True)
    assert main(["probe", vm.path, "--timeout", "1"]) == 2
    assert "SIM not inserted (+CME ERROR 10): insert a SIM card" in capsys.readouterr().err


@pytest.mark.parametrize("form", ["text", "ucs2"])
def test_ussd_prints_the_networks_answer(virtual, capsys, form: str) -> None:
    vm = virtual(ussd={"*101#": "Váš kredit je 42,50 Kč"}, ussd_encoding=form)
    assert main(["ussd", vm.path, "*101#", "--json", "--timeout", "1", "--wait", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    expected = "Váš kredit je 42,50 Kč" if form == "ucs2" else "Vas kredit je 42,50 Kc"
    assert (data["status"], data["text"]) == (0, expected)


def test_ussd_packed_for_huawei_and_an_unknown_code(virtual, capsys) -> None:
    vm = virtual(ussd={"*101#": "Kredit 7 Kc"}, ussd_encoding="gsm7hex")
    assert main(["ussd", vm.path, "*101#", "--packed", "--timeout", "1"]) == 0
    assert capsys.readouterr().out.strip() == "Kredit 7 Kc"
    assert vm.ussd_requests == ["*101#"]
    assert main(["ussd", vm.path, "*999#", "--timeout", "1"]) == 1
    assert "not supported" in capsys.readouterr().out


def test_ussd_refuses_a_code_that_is_not_one(capsys) -> None:
    assert main(["ussd", "/dev/null", "*101#;ATD123", "--timeout", "0.2"]) == 1
    assert "only digits, '*', '#' and '+'" in capsys.readouterr().err


def test_sms_agent_status_shows_recovery_resets_and_a_low_balance() -> None:
    from agent.commands.run import format_status

    line = {
        "line": "GSM1",
        "up": False,
        "queue": 1,
        "detail": "",
        "rung": "needs-person",
        "recovery": "needs a person: no answer; tried: re-opening; AT+CFUN=1,1",
        "resets_today": 1,
        "last_reset": "2026-12-04T19:07:25Z",
        "balance": 42.5,
        "balance_at": "2026-12-04T19:00:00Z",
        "balance_low": True,
    }
    status = {
        "agent": "office-1",
        "server": "ws://x/agent",
        "connected": True,
        "connected_since": 0,
        "outbox": {"jobs": {}, "events": 0},
        "lines": [line],
    }
    text = format_status(status)
    assert "recovery: needs a person: no answer; tried: re-opening; AT+CFUN=1,1" in text
    assert "resets today: 1" in text and "balance: 42.5 at 2026-12-04T19:00:00Z  LOW" in text


def test_virtual_modem_plays_a_family_and_takes_hang_and_call(tmp_path, capsys) -> None:
    import argparse

    from agent.commands.virtual_modem import _control, config_of, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["virtual-modem", "--profile", "simcom-sim7600", "--ussd", "*1#=ok"])
    config = config_of(args)
    assert (config.manufacturer, config.reset_command, config.ussd) == (
        "SIMCOM INCORPORATED",
        "+CRESET",
        {"*1#": "ok"},
    )
    from agent.modem.virtual import VirtualModem

    with VirtualModem(config, link=str(tmp_path / "gsm")) as vm:
        assert _control(vm, "call +420603123456") and vm.core.call_from == "+420603123456"
        assert _control(vm, "hang total") and vm.core.hung == "total"
