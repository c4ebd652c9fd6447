"""The catalogues' maintenance, behind `scripts/i18n.sh`:

    python -m server.i18n.tool update   # extract every msgid, merge it into each .po
    python -m server.i18n.tool check    # list msgids without a (non-fuzzy) translation

Extraction reads `gettext`/`ngettext`/`_`/`N_` calls in server/**.py, `{% trans %}` and
`gettext(...)` in the templates, and the data shown on pages without a call at their
definition: each gateway key's help and summary (accounts/config.py), smsbrana's error
table. A new string is then in cs/…/messages.po with an empty msgstr, to translate."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from .catalogue import DOMAIN, LANGUAGES, SOURCE_LANGUAGE, po_path

SERVER = Path(__file__).resolve().parents[1]
KEYWORDS = {
    "gettext": None,
    "_": None,
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}
HEADER_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HEADER = "Translations of the smsbridge pages. Update with `scripts/i18n.sh update`."


def data_texts(*_: Any, **__: Any) -> Iterator[tuple[int, str, str, list[str]]]:
    """The help texts that live as data (an extraction method, given the module's file)."""
    from ..accounts.config import (
        CONTROL_KEYS,
        GATEWAY_HELP,
        GATEWAY_KEYS,
        MODEM_CARE_KEYS,
        PACING_KEYS,
        ROUTING_KEYS,
    )
    from ..gateways.smsbrana.protocol import ERRORS

    keys = [k for group in GATEWAY_KEYS.values() for k in group] + [
        *PACING_KEYS,
        *ROUTING_KEYS,
        *MODEM_CARE_KEYS,
        *CONTROL_KEYS,
    ]
    for key in keys:
        if key.help:
            yield 0, "", key.help, [f"help of the configuration key {key.name!r}"]
    for gateway, summary in GATEWAY_HELP.items():
        yield 0, "", summary, [f"summary of the gateway {gateway.value!r}"]
    for code, info in ERRORS.items():
        yield 0, "", info.text, [f"smsbrana.cz error {code}"]


def _no_texts(*_: Any, **__: Any) -> Iterator[tuple[int, str, str, list[str]]]:
    return iter(())


METHODS: list[tuple[str, Any]] = [
    ("accounts/config.py", data_texts),
    ("i18n/tool.py", _no_texts),
    ("**.py", "python"),
    ("web/templates/**.html", "jinja2.ext:babel_extract"),
]
OPTIONS = {"web/templates/**.html": {"trimmed": "true"}}


def extract() -> Catalog:
    template = Catalog(domain=DOMAIN, project="smsbridge", header_comment=f"# {HEADER}")
    found = extract_from_dir(
        SERVER, METHODS, OPTIONS, KEYWORDS, comment_tags=("TRANSLATORS:",), strip_comment_tags=True
    )
    for filename, lineno, message, comments, context in found:
        location = (f"server/{filename}", lineno) if lineno else ("", 0)
        locations = [location] if location[0] else []
        template.add(message, None, locations, auto_comments=comments, context=context)
    return template


def update() -> int:
    template = extract()
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        path = po_path(language)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=language, domain=DOMAIN)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=language, domain=DOMAIN, header_comment=f"# {HEADER}")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False
        # A fixed header: two branches that each ran `update` merge without a conflict in it.
        catalog.project, catalog.version = "smsbridge", "0.1"
        catalog.creation_date = catalog.revision_date = HEADER_DATE
        catalog.last_translator = catalog.language_team = f"smsbridge ({language})"
        catalog.msgid_bugs_address = ""
        with path.open("wb") as f:
            # No line numbers: an edit elsewhere in a file does not touch the catalogue.
            write_po(
                f, catalog, width=100, include_lineno=False, ignore_obsolete=True, sort_output=True
            )
        missing = untranslated(language)
        name = path.relative_to(SERVER.parent)
        print(f"{name}: {len(catalog)} strings, {len(missing)} to translate")
        for msgid in missing:
            print(f"  {msgid!r}")
    return 0


def untranslated(language: str) -> list[str]:
    with po_path(language).open("rb") as f:
        catalog = read_po(f, locale=language, domain=DOMAIN)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def check() -> int:
    """Non-zero when a .po lacks a translation or lacks a msgid the sources have."""
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in extract() if m.id}
    status = 0
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        with po_path(language).open("rb") as f:
            have = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
        problems = [f"not in the catalogue: {m!r}" for m in sorted(wanted - have)]
        problems += [f"not translated: {m!r}" for m in untranslated(language)]
        for problem in problems:
            print(f"{language}: {problem}")
        status |= bool(problems)
    if status:
        print("run scripts/i18n.sh update, then translate the empty msgstrs", file=sys.stderr)
    return status


def main(argv: list[str]) -> int:
    commands = {"update": update, "check": check}
    if len(argv) != 1 or argv[0] not in commands:
        print("usage: python -m server.i18n.tool update|check", file=sys.stderr)
        return 2
    return commands[argv[0]]()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
