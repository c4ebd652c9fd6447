"""The pure parts of the pages' languages: Accept-Language, the catalogue's plurals, times
in Europe/Prague across the daylight-saving changes, the routing reasons in Czech, and
that every string the sources mark has its Czech translation."""

from __future__ import annotations

import datetime as dt

import pytest

from server.i18n import choose, reasons, tool
from server.i18n.catalogue import UNTRANSLATED
from server.i18n.formats import PageLocale


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "cs"),
        ("", "cs"),
        ("en-US,en;q=0.9", "en"),
        ("de-DE,de;q=0.9,en;q=0.5,cs;q=0.4", "en"),
        ("en;q=0.2,cs-CZ;q=0.8", "cs"),
        ("fr, *;q=0.1", "cs"),
        ("en;q=0, cs;q=0.1", "cs"),
        ("en;q=abc", "cs"),
    ],
)
def test_accept_language_picks_the_best_language_the_pages_have(header, language):
    assert choose.language(None, header, "cs") == language


def test_the_users_own_language_wins_and_an_unknown_one_is_ignored():
    assert choose.language("en", "cs", "cs") == "en"
    assert choose.language("xx", "en", "cs") == "en"


def test_czech_plurals_have_three_forms():
    cs = PageLocale("cs", "Europe/Prague")
    forms = [cs.ngettext("%(count)s part", "%(count)s parts", n) % {"count": n} for n in (1, 2, 5)]
    assert forms == ["1 část", "2 části", "5 částí"]
    en = PageLocale("en", "Europe/Prague")
    assert en.ngettext("%(count)s part", "%(count)s parts", 2) % {"count": 2} == "2 parts"


def test_times_in_prague_follow_the_spring_and_autumn_changes_with_the_zone_shown():
    cs = PageLocale("cs", "Europe/Prague")
    en = PageLocale("en", "Europe/Prague")
    before = dt.datetime(2026, 3, 29, 0, 59, 59, tzinfo=dt.UTC)  # 01:59:59 CET
    after = dt.datetime(2026, 3, 29, 1, 0, 0, tzinfo=dt.UTC)  # 03:00:00 CEST
    assert cs.datetime(before) == "29. 3. 2026 1:59:59 SEČ"
    assert cs.datetime(after) == "29. 3. 2026 3:00:00 SELČ"
    assert en.datetime(before) == "Mar 29, 2026, 1:59:59\u202fAM CET"
    assert en.datetime(after) == "Mar 29, 2026, 3:00:00\u202fAM CEST"
    # Autumn: 02:30 happens twice; the zone tells which.
    first = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    second = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    assert cs.datetime(first) == "25. 10. 2026 2:30:00 SELČ"
    assert cs.datetime(second) == "25. 10. 2026 2:30:00 SEČ"
    # A naive time (SQLite) is UTC.
    assert cs.datetime(dt.datetime(2026, 7, 1, 10, 0)) == "1. 7. 2026 12:00:00 SELČ"


def test_numbers_follow_the_language():
    assert PageLocale("cs", "UTC").number(1234567.5) == "1\xa0234\xa0567,5"
    assert PageLocale("en", "UTC").number(1234567.5) == "1,234,567.5"


def test_routing_reasons_read_in_czech_and_unknown_ones_stay_as_they_are():
    _ = PageLocale("cs", "UTC").gettext
    waiting = (
        "waiting: line GSM1 has sent 6 of 6 segments this minute (this message has 2); "
        "line GSM1#2 agent offline"
    )
    assert reasons.translate(waiting, _) == (
        "čeká: linka GSM1 odeslala v této minutě 6 z 6 segmentů (tato zpráva jich má 2); "
        "linka GSM1#2 agent je offline"
    )
    assert reasons.translate("over per_day: sent 500 of 500 segments in 24 h", _) == (
        "nad limitem per_day: odesláno 500 z 500 segmentů za 24 h"
    )
    assert reasons.translate("+CMS ERROR: 38", _) == "+CMS ERROR: 38"
    assert reasons.translate("waiting: line X melted", _) == "waiting: line X melted"


def test_strict_mode_marks_a_string_the_catalogue_lacks():
    strict = PageLocale("cs", "UTC", strict=True)
    assert strict.gettext("Messages") == "Zprávy"
    assert strict.gettext("A string nobody translated") == UNTRANSLATED.format(
        "A string nobody translated"
    )
    assert PageLocale("en", "UTC", strict=True).gettext("Anything") == "Anything"


def test_every_marked_string_has_its_czech_translation(capsys):
    """`scripts/i18n.sh check`: fails on a new string until it is in cs/messages.po."""
    assert tool.check() == 0, capsys.readouterr().out


def test_settings_refuse_an_unknown_time_zone_or_language_by_name():
    from server.settings import SettingsError, build

    assert build({}, {}).default_language == "cs"
    assert build({}, {}).time_zone == "Europe/Prague"
    with pytest.raises(SettingsError, match="time_zone: 'Mars/Base' is not a known IANA"):
        build({"time_zone": "Mars/Base"}, {})
    with pytest.raises(SettingsError, match="default_language"):
        build({"default_language": "de"}, {})
    assert not choose.is_zone("../../etc/passwd")


BAD_CONFIGS = [
    ("url", "url = https://sms.example/send?to=[PHONE]\nspeed = fast\nnonsense"),
    ("smsbrana", "login = a\nhash = maybe\nurl = ftp://x\nlogin = b"),
    ("modem", "device = dev/x\nbaudrate = fast\npin = 12\nagent = nobody\nline1.pin = 1"),
    ("modem", "device = /dev/x\nbaudrate = 1\nagent = \nline2.colour = red\npassword = x"),
    ("smslib", "sqlDriver = foo\nsqlURL = nope\nsqlUser = u\nsqlPassword = (set)\ngatewayId = "),
    ("modem", "device = /dev/x\nbaudrate = 1\nagent = a\nline2.agent = a\nfallback = web"),
    ("url", "url = https://x/[PHONE]/[MSG]\nline2.url = https://y"),
]


@pytest.mark.parametrize(("gateway", "text"), BAD_CONFIGS)
def test_every_configuration_problem_the_checker_finds_reads_in_czech(gateway, text):
    from server.accounts.config import AccountConfigError, parse_config
    from server.i18n import problems
    from sms.model import GatewayType

    with pytest.raises(AccountConfigError) as caught:
        parse_config(GatewayType(gateway), text, agents=["a"], stored_secrets={}, fallbacks=[])
    _ = PageLocale("cs", "UTC", strict=True).gettext
    for problem in caught.value.problems:
        czech = problems.translate(problem.message, _)
        assert czech != problem.message and "⟦" not in czech, problem.message
