"""A configuration's problems (server/accounts/config.py) are English sentences that the
API returns as they are; the account form shows them in the page's language by their
known shapes. A sentence of no known shape is shown as it is."""

from __future__ import annotations

import re

from .catalogue import N_
from .reasons import Gettext

_Q = r"(?P<name>'[^']*'|\"[^\"]*\")"  # a key's repr, e.g. 'url'
_V = r"(?P<value>.*)"
SHAPES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"{_Q} must not be empty"), N_("%(name)s must not be empty")),
    (
        re.compile(rf"{_Q} must be true or false, not {_V}"),
        N_("%(name)s must be true or false, not %(value)s"),
    ),
    (
        re.compile(rf"{_Q} must be an http:// or https:// URL, not {_V}"),
        N_("%(name)s must be an http:// or https:// URL, not %(value)s"),
    ),
    (
        re.compile(rf"{_Q} must contain \[PHONE\] and \[MSG\] \(missing (?P<missing>.*)\)"),
        N_("%(name)s must contain [PHONE] and [MSG] (missing %(missing)s)"),
    ),
    (
        re.compile(rf"{_Q} must be an absolute path \(starting with /\), not {_V}"),
        N_("%(name)s must be an absolute path (starting with /), not %(value)s"),
    ),
    (
        re.compile(rf"{_Q} must be a positive whole number, not {_V}"),
        N_("%(name)s must be a positive whole number, not %(value)s"),
    ),
    (
        re.compile(rf"{_Q} must be empty \(no PIN\) or 4 to 8 digits"),
        N_("%(name)s must be empty (no PIN) or 4 to 8 digits"),
    ),
    (
        re.compile(rf"{_Q}: unknown driver {_V} \(known: (?P<known>.*), or a SQLAlchemy dialect\)"),
        N_("%(name)s: unknown driver %(value)s (known: %(known)s, or a SQLAlchemy dialect)"),
    ),
    (
        re.compile(rf"{_Q} must be a JDBC URL \(jdbc:\.\.\.\) or a SQLAlchemy URL, not {_V}"),
        N_("%(name)s must be a JDBC URL (jdbc:...) or a SQLAlchemy URL, not %(value)s"),
    ),
    (
        re.compile(rf"{_Q} must name the agent that runs this account"),
        N_("%(name)s must name the agent that runs this account"),
    ),
    (
        re.compile(
            rf"{_Q}: unknown agent {_V} \(known: (?P<known>.*); register it with POST /api/agents\)"
        ),
        N_(
            "%(name)s: unknown agent %(value)s (known: %(known)s; "
            "register it with POST /api/agents)"
        ),
    ),
    (
        re.compile(r"expected 'key = value', got (?P<value>.*)"),
        N_("expected 'key = value', got %(value)s"),
    ),
    (
        re.compile(rf"gateway (?P<gateway>\S+) has one line: no {_Q}"),
        N_("gateway %(gateway)s has one line: no %(name)s"),
    ),
    (
        re.compile(rf"{_Q}: extra lines are numbered from 2 \(line2\.\)"),
        N_("%(name)s: extra lines are numbered from 2 (line2.)"),
    ),
    (
        re.compile(rf"unknown key {_Q} for line (?P<position>\d+) \((?P<known>.*)\)"),
        N_("unknown key %(name)s for line %(position)s (%(known)s)"),
    ),
    (
        re.compile(rf"unknown key {_Q} for gateway (?P<gateway>\S+) \((?P<known>.*)\)"),
        N_("unknown key %(name)s for gateway %(gateway)s (%(known)s)"),
    ),
    (
        re.compile(rf"{_Q} is already set on line (?P<line>\d+)"),
        N_("%(name)s is already set on line %(line)s"),
    ),
    (
        re.compile(rf"{_Q} says \(set\) but none is stored"),
        N_("%(name)s says (set) but none is stored"),
    ),
    (
        re.compile(rf"missing required key {_Q} for gateway (?P<gateway>\S+)"),
        N_("missing required key %(name)s for gateway %(gateway)s"),
    ),
    (
        re.compile(rf"missing required key {_Q} for line (?P<position>\d+)"),
        N_("missing required key %(name)s for line %(position)s"),
    ),
    (
        re.compile(
            r"'fallback': (?P<value>.*) is not a web-gateway account \(usable: (?P<known>.*)\)"
        ),
        N_("'fallback': %(value)s is not a web-gateway account (usable: %(known)s)"),
    ),
]
# Words inside the values that are the checker's own, not the user's.
WORDS = {
    "none registered yet": N_("none registered yet"),
    "none yet": N_("none yet"),
    "[PHONE] and [MSG]": N_("[PHONE] and [MSG]"),
}


def translate(text: str, _: Gettext) -> str:
    for pattern, template in SHAPES:
        found = pattern.fullmatch(text)
        if found:
            values = {k: _(WORDS[v]) if v in WORDS else v for k, v in found.groupdict().items()}
            return _(template) % values
    return text
