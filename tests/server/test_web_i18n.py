"""The pages in Czech and English without a browser: the language from the user's choice,
else Accept-Language, else default_language; Czech plurals; times in the user's zone.
(tests/browser/test_i18n.py drives the same in Chromium.)"""

from __future__ import annotations

import httpx

from .conftest import ADMIN_TOKEN, Api
from .test_web_pages import login


async def _admin_in(api: Api, accept_language: str | None) -> httpx.AsyncClient:
    client = api.client
    if accept_language is None:
        client.headers.pop("Accept-Language", None)
    else:
        client.headers["Accept-Language"] = accept_language
    r = await login(client, token=ADMIN_TOKEN)
    assert r.status_code == 303
    return client


async def test_without_accept_language_the_pages_are_in_the_default_czech(api: Api):
    client = await _admin_in(api, None)
    page = await client.get("/")
    assert '<html lang="cs">' in page.text
    assert "SMS účty" in page.text and "Nový účet" in page.text


async def test_accept_language_chooses_english_or_czech_by_quality(api: Api):
    client = await _admin_in(api, "de-DE,en;q=0.8,cs;q=0.5")
    assert '<html lang="en">' in (await client.get("/")).text
    client.headers["Accept-Language"] = "en;q=0.3, cs-CZ"
    page = await client.get("/")
    assert '<html lang="cs">' in page.text and "SMS účty" in page.text
