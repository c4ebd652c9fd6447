"""A page test's check that nothing on a page was left untranslated.

With the server's `strict_translations` setting, a string that the page passes through
gettext but that the language's catalogue lacks renders as ⟦msgid⟧ (server/i18n/
catalogue.py). `assert_translated(page, "cs")` fails on any such string in the page's
text or attributes (labels for screen readers too) and on a wrong `<html lang>`; on a
page not in English, also on any text of the page's own that holds an English word that
no Czech word is (`english_left`): a string nobody wrapped in {% trans %} is caught so.
User content is left out where the template marks it `translate="no"` (message texts),
and so is an API's English detail (`lang="en"`), code and form values.

For a new page: start the server with `strict_translations=True` (live_server(...,
strict_translations=True)), open the page in a browser context with `locale="cs-CZ"`, call
`assert_translated`. A failure lists the msgids: `scripts/i18n.sh update`, translate them
in server/i18n/locale/cs/LC_MESSAGES/messages.po, run again.
"""

from __future__ import annotations

import re

from playwright.async_api import Page

MARKED = re.compile(r"⟦(.*?)⟧", re.S)
# Every text node and every attribute value, as the browser holds them (unescaped).
_TEXTS = """() => {
  const out = [document.documentElement.textContent || ""];
  for (const e of document.querySelectorAll("*")) {
    for (const a of e.attributes) out.push(a.value);
  }
  return out;
}"""


# English words that are no Czech words: a Czech page's text holding one of them still has
# an English sentence in it, most likely a string nobody wrapped in {% trans %}.
ENGLISH = frozenset(
    [
        "the",
        "and",
        "of",
        "is",
        "are",
        "not",
        "with",
        "for",
        "from",
        "this",
        "that",
        "has",
        "have",
        "was",
        "be",
        "your",
        "you",
        "yet",
        "will",
        "been",
        "which",
        "its",
        "there",
        "than",
        "only",
        "none",
        "every",
        "when",
        "where",
        "who",
        "what",
        "must",
        "may",
        "can",
        "shown",
        "never",
        "these",
        "those",
        "here",
        "please",
    ]
)
# The page's text outside what is not the page's own words: elements marked
# translate="no" (message texts, names) or lang="en" (an API detail), code, form values.
_OWN_TEXT = """() => {
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { out.push(node.textContent); return; }
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    const e = node;
    if (e.getAttribute("translate") === "no" || (e.lang || "").startsWith("en")) return;
    if (["CODE", "SCRIPT", "STYLE", "TEXTAREA", "OPTION", "KBD", "PRE"].includes(e.tagName)) return;
    for (const child of e.childNodes) walk(child);
  };
  walk(document.body);
  return out;
}"""


async def english_left(page: Page) -> list[str]:
    """Text of the page (not user content) that reads as English, for a non-English page."""
    texts: list[str] = await page.evaluate(_OWN_TEXT)
    return sorted(
        {
            text.strip()
            for text in texts
            if ENGLISH & {w.lower() for w in re.findall(r"[A-Za-z']+", text)}
        }
    )


async def untranslated(page: Page) -> list[str]:
    texts: list[str] = await page.evaluate(_TEXTS)
    return sorted({m for text in texts for m in MARKED.findall(text)})


async def assert_translated(page: Page, language: str) -> None:
    missing = await untranslated(page)
    assert not missing, (
        f"{page.url}: not in the {language} catalogue: {missing} "
        "(scripts/i18n.sh update, then translate them)"
    )
    assert await page.get_attribute("html", "lang") == language, page.url
    if language != "en":
        english = await english_left(page)
        assert not english, f"{page.url}: English left on a {language} page: {english}"
