"""The whole smsbridge on this machine, no modem needed: sms-server, the virtual modem and
an agent, each a real process, wired together as a technician would, then one SMS sent
and one reply received to show it works. Run it through scripts/demo.sh.

    .venv/bin/python scripts/demo.py [--port 8765] [--dir demo] [--once]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

VENV_BIN = Path(sys.executable).parent


def log(text: str) -> None:
    print(f"\033[1m==\033[0m {text}", flush=True)


def start(name: str, args: list[str], logdir: Path, **kw: object) -> subprocess.Popen:
    out = open(logdir / f"{name}.log", "wb")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [str(VENV_BIN / args[0]), *args[1:]], stdout=out, stderr=subprocess.STDOUT, **kw
    )


def wait_until(check, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := check():
                return value
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"demo: timed out waiting for {what}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--dir", type=Path, default=Path("demo"), help="state (wiped first)")
    parser.add_argument("--once", action="store_true", help="exit after the walk-through")
    args = parser.parse_args()

    state: Path = args.dir.resolve()
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    token = "sbu_demo-" + secrets.token_urlsafe(16)
    base = f"http://127.0.0.1:{args.port}"
    procs: list[subprocess.Popen] = []

    def stop(*_: object) -> None:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        link = state / "gsmmodem0"
        log(f"virtual modem on {link} (its log: {state}/virtual-modem.log)")
        modem = start(
            "virtual-modem",
            ["sms-agent", "virtual-modem", "--link", str(link), "--report-delay", "1"],
            state,
            stdin=subprocess.PIPE,
        )
        procs.append(modem)
        wait_until(link.exists, "the virtual modem")

        log(f"sms-server on {base} (database {state}/server.sqlite)")
        env = {**os.environ, "SMSBRIDGE_ADMIN_TOKEN": token}
        procs.append(
            start(
                "sms-server",
                [
                    "sms-server",
                    "--db",
                    f"sqlite:///{state}/server.sqlite",
                    "--port",
                    str(args.port),
                    "--key-file",
                    str(state / "server.key"),
                ],
                state,
                env=env,
            )
        )
        http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
        wait_until(lambda: http.get("/healthz").status_code == 200, "sms-server")

        log("register agent office-1 and an SMS account on the virtual modem")
        agent = http.post("/api/agents", json={"name": "office-1"}).raise_for_status().json()
        account = (
            http.post(
                "/api/accounts",
                json={
                    "name": "Virtual modem",
                    "gateway": "modem",
                    "phone": "+420601000000",
                    "config": f"device = {link}\nbaudrate = 115200\npin =\nagent = office-1",
                    "default": True,
                    "poll_incoming": True,
                    "sharing": "all",
                },
            )
            .raise_for_status()
            .json()
        )
        (state / "agent.toml").write_text(
            f'server = "ws://127.0.0.1:{args.port}/agent"\n'
            f'name = "office-1"\ntoken = "{agent["token"]}"\n'
            f'state_dir = "{state}/agent"\nallow = ["{state}/gsmmodem*"]\n'
        )
        log(f"sms-agent run --config {state}/agent.toml")
        procs.append(
            start("sms-agent", ["sms-agent", "run", "--config", str(state / "agent.toml")], state)
        )

        def line_up():
            (a,) = http.get("/api/agents").json()
            return a["online"] and a["line_status"] and a["line_status"][0]["up"]

        wait_until(line_up, "the agent and its modem line")

        log("send an SMS: POST /api/messages")
        sent = (
            http.post(
                "/api/messages", json={"to": "+420774884138", "text": "Ahoj ze smsbridge! €5 [ok]"}
            )
            .raise_for_status()
            .json()
        )
        print(json.dumps(sent))
        seen = set()

        def delivered():
            msg = http.get(f"/api/messages/{sent['id']}").json()
            if msg["state"] not in seen:
                seen.add(msg["state"])
                print(f"   state: {msg['state']}")
            return msg if msg["state"] == "delivered" else None

        msg = wait_until(delivered, "the message to be delivered")
        print(f"   sent {msg['sent_at']}, delivered {msg['delivered_at']}")

        log("a reply arrives at the virtual modem from +420603123456")
        modem.stdin.write("sms +420603123456 Díky, dorazilo!\n".encode())
        modem.stdin.flush()

        def reply():
            page = http.get("/api/messages", params={"direction": "in"}).json()
            return page["messages"][0] if page["messages"] else None

        got = wait_until(reply, "the reply")
        print(f"   from {got['from']}: {got['text']!r} ({got['state']})")

        (a,) = http.get("/api/agents").json()
        m = a["line_status"][0].get("modem") or {}
        log(
            f"agent {a['name']}: online, line {a['line_status'][0]['line']} up, "
            f"{m.get('operator')}, signal {m.get('signal_dbm')} dBm ({m.get('signal_bars')}/5)"
        )
        if args.once:
            return 0
        print(f"""
Everything runs. Try it yourself (Ctrl-C stops the demo):

  open {base}/ in a browser and log in with the API token below (accounts, messages, agents)

  export TOKEN={token}
  curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
       -d '{{"to": "+420774884138", "text": "Hello"}}' {base}/api/messages
  curl -s -H "Authorization: Bearer $TOKEN" {base}/api/messages?direction=out
  curl -s -H "Authorization: Bearer $TOKEN" {base}/api/agents
  {VENV_BIN}/sms-agent status --config {state}/agent.toml

Account {account["id"]} ({account["name"]}) is the default. Logs are in {state}/.
""")
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        log("a process stopped; see the logs in " + str(state))
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
