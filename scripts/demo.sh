#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs smsbridge's main job on this machine, no modem
# needed. Today that is the PDU codec: it encodes a message for a modem and decodes it
# back, as a technician would check what a modem is sent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
agent=.venv/bin/sms-agent
text='Příliš žluťoučký kůň úpěl ďábelské ódy — €5 [ok] 😀'
echo "== sms-agent pdu encode --to +420774884138 --report '$text'"
"$agent" pdu encode --to +420774884138 --report "$text" | tee /tmp/smsbridge-demo.json
echo "== sms-agent pdu decode (each part above)"
.venv/bin/python -c 'import json,sys; [print(p["pdu"]) for p in json.load(sys.stdin)]' \
    </tmp/smsbridge-demo.json | while read -r pdu; do "$agent" pdu decode "$pdu"; done
