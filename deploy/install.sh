#!/usr/bin/env bash
# Installs smsbridge for real on a Debian machine, as root, from a clone of the repository:
#
#   deploy/install.sh agent     # beside a modem: sms-agent, udev rules, agent.toml
#   deploy/install.sh server    # the central server: sms-server, server.toml
#   deploy/install.sh both      # one machine that does both
#
# It puts a virtual environment with smsbridge in /opt/smsbridge, the systemd units in
# /etc/systemd/system, example configurations in /etc/smsbridge (never overwriting one
# that exists), and creates the system user `smsbridge` (in group dialout for the serial
# ports). It does not start anything: edit the configuration, then `systemctl enable --now`.
#
# Options: --root DIR  install under DIR instead of / (packaging, tests): no user is
#                      created and neither udev nor systemd is reloaded
#          --venv DIR  use this existing environment instead of building /opt/smsbridge
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

root=""
venv=""
what=""
while (($#)); do
    case "$1" in
        --root) root="${2:?--root needs a directory}"; shift 2 ;;
        --venv) venv="${2:?--venv needs a directory}"; shift 2 ;;
        -h|--help) usage 0 ;;
        agent|server|both) what="$1"; shift ;;
        *) echo "install: unknown argument '$1' (agent, server or both; --help)" >&2; exit 2 ;;
    esac
done
[ -n "$what" ] || { echo "install: say what to install: agent, server or both" >&2; exit 2; }
if [ -z "$root" ] && [ "$(id -u)" != 0 ]; then
    echo "install: run as root (or stage with --root DIR)" >&2
    exit 1
fi
repo="$(cd "$(dirname "$0")/.." && pwd)"
agent=false; server=false
[ "$what" != server ] && agent=true
[ "$what" != agent ] && server=true

step() { echo "install: $*"; }

# The program: a venv of its own, so that Debian's Python packages are left alone.
opt="$root/opt/smsbridge"
if [ -n "$venv" ]; then
    venv="$(cd "$venv" && pwd)"
    step "using the environment $venv (wrappers in /opt/smsbridge/bin)"
    install -d -m 0755 "$opt/bin"
    for program in sms-agent sms-server; do
        [ -x "$venv/bin/$program" ] || { echo "install: $venv/bin/$program not found" >&2; exit 1; }
        printf '#!/bin/sh\nexec %s/bin/%s "$@"\n' "$venv" "$program" >"$opt/bin/$program"
        chmod 0755 "$opt/bin/$program"
    done
else
    step "building /opt/smsbridge (python3 -m venv, pip install)"
    python3 -m venv "$opt"
    extras=""
    $agent && extras="[gammu]"
    "$opt/bin/pip" install -q --upgrade pip
    "$opt/bin/pip" install -q "$repo$extras"
    install -m 0644 "$repo/README.md" "$opt/README.md"
fi

# Configuration: examples only where nothing is there yet; the agent's holds its token.
etc="$root/etc/smsbridge"
install -d -m 0755 "$etc"
example() {  # example SOURCE TARGET MODE
    if [ -e "$etc/$2" ]; then
        step "keeping the existing /etc/smsbridge/$2"
    else
        install -m "$3" "$repo/deploy/$1" "$etc/$2"
        step "wrote /etc/smsbridge/$2 (edit it)"
    fi
}
$agent && example agent.toml.example agent.toml 0640
$server && example server.toml.example server.toml 0640
$server && example server.env.example server.env 0600

units="$root/etc/systemd/system"
install -d -m 0755 "$units"
$agent && install -m 0644 "$repo/deploy/systemd/sms-agent.service" "$units/"
$server && install -m 0644 "$repo/deploy/systemd/sms-server.service" "$units/"
step "installed the systemd unit(s) in /etc/systemd/system"

if $agent; then
    install -D -m 0755 "$repo/udev/smsbridge-modem-index" \
        "$root/usr/local/lib/smsbridge/smsbridge-modem-index"
    install -D -m 0644 "$repo/udev/99-smsbridge-modems.rules" \
        "$root/etc/udev/rules.d/99-smsbridge-modems.rules"
    step "installed the udev rules (stable /dev/gsmmodemN names)"
fi

if [ -z "$root" ]; then
    if ! id smsbridge >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/smsbridge --no-create-home \
            --shell /usr/sbin/nologin smsbridge
        step "created the system user smsbridge"
    fi
    $agent && usermod -a -G dialout smsbridge
    chgrp smsbridge "$etc"/*.toml 2>/dev/null || true
    if $agent && command -v udevadm >/dev/null && [ -d /run/udev ]; then
        udevadm control --reload && udevadm trigger --subsystem-match=tty
        step "reloaded udev: ls -l /dev/gsmmodem*"
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload
    fi
fi

echo
$server && echo "next (server): edit /etc/smsbridge/server.toml, then: systemctl enable --now sms-server"
$agent && echo "next (agent):  put the agent's name and token in /etc/smsbridge/agent.toml, then: systemctl enable --now sms-agent"
