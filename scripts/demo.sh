#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs smsbridge's main job on this machine, no modem
# needed. Today that is the PDU codec: it encodes a message as a modem is given it
# and decodes each part back, as a technician checks what a modem is sent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
agent=.venv/bin/sms-agent
text='Příliš žluťoučký kůň úpěl ďábelské ódy, €5 [ok] 😀 — and a second part to show concatenation.'
echo "== sms-agent pdu encode --to +420774884138 --report '$text'"
parts=$("$agent" pdu encode --to +420774884138 --report "$text")
echo "$parts"
echo "== sms-agent pdu decode <each part's pdu>"
echo "$parts" | .venv/bin/python -c 'import json, sys; [print(json.loads(l)["pdu"]) for l in sys.stdin]' |
    while read -r pdu; do "$agent" pdu decode "$pdu"; done
