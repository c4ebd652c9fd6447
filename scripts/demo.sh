#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the whole smsbridge on this machine with no modem:
# sms-server (SQLite), the virtual modem and an agent, then sends an SMS and receives a
# reply, and keeps running for you to try the printed curl commands (Ctrl-C stops).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python scripts/demo.py "$@"
