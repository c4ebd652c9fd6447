"""The pages' language and time zone, worked out once per request: the user's own choice,
else the browser's Accept-Language (the language only), else the server's settings
(`default_language`, `time_zone`). Templates call `gettext`/`ngettext` (and `{% trans %}`),
`when(t)`, `clock(t)`, `number(n)` and `page_language()`; these read the request from the
template's context, so page handlers pass nothing but the user's saved preferences."""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup

from ..i18n import choose, problems, reasons
from ..i18n.catalogue import SOURCE_LANGUAGE
from ..i18n.codes import TERMS, Said
from ..i18n.formats import PageLocale

OWN = "i18n_own"  # the context key page() fills with the user's (language, time zone)
_STATE = "page_locale"


def locale_for(
    request: Request[Any, Any, Any], own: tuple[str | None, str | None] = (None, None)
) -> PageLocale:
    """The request's PageLocale, made once and kept on the request (never shared)."""
    found = request.state.get(_STATE)
    if isinstance(found, PageLocale):
        return found
    settings = request.app.state.server.settings
    language = choose.language(
        own[0], request.headers.get("accept-language"), settings.default_language
    )
    zone = choose.zone(own[1], settings.time_zone)
    made = PageLocale(language, zone, strict=settings.strict_translations)
    request.state[_STATE] = made
    return made


def _locale(ctx: Context) -> PageLocale:
    request = ctx.get("request")
    if request is None:  # rendered outside a request (never by the pages themselves)
        return PageLocale("en", "UTC")
    return locale_for(request, ctx.get(OWN) or (None, None))


def _format(ctx: Context, text: str, variables: dict[str, Any]) -> str:
    # As Jinja's own "newstyle" gettext: the translation is markup-safe, values escaped.
    rv: str = Markup(text) if ctx.eval_ctx.autoescape else text
    return rv % variables


@pass_context
def _gettext(ctx: Context, message: str, **variables: Any) -> str:
    return _format(ctx, _locale(ctx).gettext(message), variables)


@pass_context
def _pgettext(ctx: Context, context: str, message: str, **variables: Any) -> str:
    return _format(ctx, _locale(ctx).pgettext(context, message), variables)


@pass_context
def _say(ctx: Context, text: Said | str | None) -> str:
    """A Said (or a bare msgid) in the page's language. An API error's English detail is
    the whole text in English and follows the sentence elsewhere."""
    if not text:
        return ""
    if isinstance(text, str):
        return _gettext(ctx, text)
    locale = _locale(ctx)
    if text.detail and locale.language == SOURCE_LANGUAGE:
        return text.detail
    shown = _format(ctx, locale.gettext(text.msgid), dict(text.params))
    if text.detail:
        shown += Markup(' <span class="hint" lang="en">(%s)</span>') % text.detail
    return shown


@pass_context
def _ngettext(ctx: Context, singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _format(ctx, _locale(ctx).ngettext(singular, plural, num), variables)


def _time_of(when: dt.datetime | str | None) -> dt.datetime | None:
    if isinstance(when, str):  # an agent's RFC 3339 report
        try:
            return dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            return None
    return when


@pass_context
def _when(ctx: Context, when: dt.datetime | str | None, zone: bool = True) -> str:
    return _locale(ctx).datetime(_time_of(when), zone=zone)


@pass_context
def _problem(ctx: Context, text: str) -> str:
    """A configuration problem (accounts/config.py) in the page's language."""
    return problems.translate(text, _locale(ctx).gettext)


@pass_context
def _term(ctx: Context, value: str | None) -> str:
    """A word an agent reported: translated when it is one the catalogue knows."""
    if not value:
        return ""
    return _locale(ctx).gettext(value) if value in TERMS else value


@pass_context
def _reason(ctx: Context, text: str | None) -> str:
    """A routing reason (a message's detail, a line's why_not) in the page's language."""
    locale = _locale(ctx)
    return reasons.translate(text, locale.gettext, locale.datetime)


@pass_context
def _clock(ctx: Context, when: dt.datetime | str | None) -> str:
    return _locale(ctx).time(_time_of(when))


@pass_context
def _number(ctx: Context, value: float) -> str:
    return _locale(ctx).number(value)


@pass_context
def _page_language(ctx: Context) -> str:
    return _locale(ctx).language


@pass_context
def _page_zone(ctx: Context) -> str:
    return _locale(ctx).zone_name


@pass_context
def _zone_now(ctx: Context) -> str:
    return _locale(ctx).zone_abbreviation(dt.datetime.now(dt.UTC))


def install(engine: JinjaTemplateEngine) -> None:
    """TemplateConfig's engine_callback: `{% trans %}` and the functions above."""
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True  # as the extraction (server/i18n/tool.py)
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(
        gettext=_gettext,
        _=_gettext,
        ngettext=_ngettext,
        pgettext=_pgettext,
        say=_say,
        when=_when,
        reason=_reason,
        term=_term,
        problem=_problem,
        clock=_clock,
        number=_number,
        page_language=_page_language,
        page_zone=_page_zone,
        zone_now=_zone_now,
    )
