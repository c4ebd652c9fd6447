"""The translations of the pages, one catalogue per language, compiled from the `.po` file
in memory on first use (a `.po` edited in a clone is seen at the next start: no `.mo` to
rebuild, none to forget at install time). English is the msgids' own language."""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGES = ("cs", "en")  # the first is no default: see Settings.default_language
SOURCE_LANGUAGE = "en"
# How a string without a Czech translation shows in strict mode (tests): visibly, so that a
# page test finds every one of them in the rendered page (tests/browser/untranslated.py).
UNTRANSLATED = "⟦{}⟧"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of `language`; English (the msgids) has none."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    with po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    # Fuzzy entries are a translator's guess to review: left out, they read as untranslated.
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


class Strict(gettext.NullTranslations):
    """A catalogue that marks every msgid it lacks as ⟦msgid⟧ instead of falling back to
    English quietly; English itself stays unmarked."""

    def __init__(self, inner: gettext.NullTranslations, language: str) -> None:
        super().__init__()
        self._inner = inner
        self._check = language != SOURCE_LANGUAGE

    def _known(self, msgid: str) -> bool:
        catalog = getattr(self._inner, "_catalog", {})
        return msgid in catalog or (msgid, 0) in catalog

    def gettext(self, message: str) -> str:
        if self._check and message and not self._known(message):
            return UNTRANSLATED.format(message)
        return self._inner.gettext(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        if self._check and not self._known(msgid1):
            return UNTRANSLATED.format(msgid1 if n == 1 else msgid2)
        return self._inner.ngettext(msgid1, msgid2, n)

    def pgettext(self, context: str, message: str) -> str:
        if self._check and not self._known(f"{context}\x04{message}"):
            return UNTRANSLATED.format(message)
        return self._inner.pgettext(context, message)


@cache
def strict_translations(language: str) -> gettext.NullTranslations:
    return Strict(translations(language), language)


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; it is translated where shown."""
    return message
