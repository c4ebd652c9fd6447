"""The pages in Czech and English without a browser: the language from the user's choice,
else Accept-Language, else default_language; Czech plurals; times in the user's zone.
(tests/browser/test_i18n.py drives the same in Chromium.)"""

from __future__ import annotations

import httpx

from .conftest import ADMIN_TOKEN, Api
from .test_web_pages import csrf_of, login


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


async def test_a_users_own_language_wins_over_the_browser_and_admins_set_it_for_others(
    api: Api,
):
    await api.user("clerk", "send")
    client = await _admin_in(api, "en")
    page = await client.get("/settings")
    assert page.status_code == 200
    r = await client.post(
        "/settings",
        data={"_csrf": csrf_of(page.text), "name": "admin", "language": "cs", "time_zone": ""},
    )
    assert r.status_code == 303
    after = await client.get(r.headers["location"])
    assert '<html lang="cs">' in after.text
    assert "Jazyk a časové pásmo uživatele admin jsou uloženy." in after.text
    # For another user: the admin may, and a bad zone is named beside its field.
    other = await client.get("/settings?name=clerk")
    bad = await client.post(
        "/settings",
        data={
            "_csrf": csrf_of(other.text),
            "name": "clerk",
            "language": "en",
            "time_zone": "Mars/Base",
        },
    )
    assert bad.status_code == 422 and "Mars/Base není známé časové pásmo" in bad.text
    ok = await client.post(
        "/settings",
        data={"_csrf": csrf_of(other.text), "name": "clerk", "language": "en", "time_zone": "UTC"},
    )
    assert ok.status_code == 303
    async with api.client.__class__(transport=api.client._transport, base_url="http://t") as c:
        c.headers["Accept-Language"] = "cs"
        assert (await login(c, token=await api.user("reader", "read"))).status_code == 303
        refused = await c.get("/settings?name=clerk")
        assert refused.status_code == 403 and "Tohle nesmíte." in refused.text
