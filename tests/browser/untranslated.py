"""A page test's check that nothing on a page was left untranslated.

With the server's `strict_translations` setting, a string that the page passes through
gettext but that the language's catalogue lacks renders as ⟦msgid⟧ (server/i18n/
catalogue.py). `assert_translated(page, "cs")` fails on any such string in the page's
text or attributes (labels for screen readers too) and on a wrong `<html lang>`.

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
