#!/usr/bin/env bash
# Installs what smsbridge needs on Debian/Ubuntu (as root) and the Python environment
# in .venv. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: smstools (smsd, a real peer for the spool tests), chromium (the
# browser tests' real browser) and, where the
# python3 on PATH lacks ensurepip, python3-venv.
packages=(smstools chromium)
python3 -c "import ensurepip" 2>/dev/null || packages+=(python3-venv)
packages+=(${SMSBRIDGE_EXTRA_APT:-})
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" != 0 ]; then
        echo "setup: please install as root: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    echo "setup: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv"
    python3 -m venv .venv
    .venv/bin/pip install -q --upgrade pip
fi
echo "setup: pip install -e '.[gammu,dev]'"
.venv/bin/pip install -q -e '.[gammu,dev]'
