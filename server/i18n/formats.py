"""A page's language and time zone, and what it needs from them: translated strings
(gettext, ngettext), times in the zone with the zone shown, numbers (Babel)."""

from __future__ import annotations

import datetime as dt
import gettext
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, format_time
from babel.numbers import format_decimal

from .catalogue import strict_translations, translations


class PageLocale:
    def __init__(self, language: str, zone: str, *, strict: bool = False) -> None:
        self.language = language
        self.zone_name = zone
        self.zone = ZoneInfo(zone)
        self.locale = Locale.parse(language)
        self.catalogue: gettext.NullTranslations = (
            strict_translations(language) if strict else translations(language)
        )

    def gettext(self, message: str) -> str:
        return self.catalogue.gettext(message)

    def pgettext(self, context: str, message: str) -> str:
        """One English word, two Czech ones (an account's "Name" is Název, a user's Jméno)."""
        return self.catalogue.pgettext(context, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.catalogue.ngettext(singular, plural, n)

    def local(self, when: dt.datetime) -> dt.datetime:
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)  # stored times are UTC
        return when.astimezone(self.zone)

    def zone_abbreviation(self, when: dt.datetime) -> str:
        """SEČ/SELČ in Czech; CET/CEST (the zone's own) where the language has no name."""
        local = self.local(when)
        named = format_datetime(local, "z", tzinfo=self.zone, locale=self.locale)
        if named.startswith(("+", "-", "GMT", "UTC")):
            return local.tzname() or named
        return named

    def datetime(self, when: dt.datetime | None, *, zone: bool = True) -> str:
        """`4. 12. 2026 20:15:03 SEČ` / `Dec 4, 2026, 8:15:03 PM CET`."""
        if when is None:
            return ""
        text = format_datetime(self.local(when), "medium", tzinfo=self.zone, locale=self.locale)
        return f"{text} {self.zone_abbreviation(when)}" if zone else text

    def time(self, when: dt.datetime | None) -> str:
        if when is None:
            return ""
        return format_time(self.local(when), "medium", tzinfo=self.zone, locale=self.locale)

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)
