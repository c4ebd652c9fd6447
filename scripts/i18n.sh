#!/usr/bin/env bash
# The pages' translations (docs/i18n.md):
#   scripts/i18n.sh update   extract every string of the pages and merge it into each .po
#   scripts/i18n.sh check    fail when a string has no Czech translation
# After `update`, fill in the empty msgstr entries of server/i18n/locale/cs/LC_MESSAGES/messages.po.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m server.i18n.tool "$@"
