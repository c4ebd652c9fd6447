"""The pages in Czech and English in real Chromium: the browser's Accept-Language picks the
language, every page is walked in both with nothing untranslated (the server marks any
string the catalogue lacks, tests/browser/untranslated.py) and photographed; times in
Europe/Prague on both sides of a daylight-saving change; a conversation whose reply goes
out through the virtual modem, with its live part count."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select, update

from agent.modem.virtual import VirtualModem
from agent.modem.virtual_core import VirtualConfig
from server.db.tables import Account, Message
from server.messages.inbound import store_inbound
from server.runtime import Server
from tests.bridge.live import ADMIN_TOKEN, LiveServer, live_server
from tests.integration.system import running_system

from .conftest import DESKTOP
from .test_pages import unexpected
from .untranslated import assert_translated, english_left, untranslated

pytestmark = pytest.mark.peer("chromium")

SENDER = "+420774884138"
LOCALES = {"cs": "cs-CZ", "en": "en-GB"}


def server_of(live: LiveServer) -> Server:
    return live.uvicorn.config.app.state.server  # type: ignore[attr-defined,no-any-return]


async def new_page(browser: Browser, language: str) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport=DESKTOP, locale=LOCALES[language])
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


async def log_in(page: Page, base: str, button: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("API token").fill(ADMIN_TOKEN)
    await page.get_by_role("button", name=button).click()
    await expect(page).to_have_url(f"{base}/")


async def visit(page: Page, shots: Path, language: str, name: str, heading: str) -> None:
    """The page shows `heading` (its language's), nothing untranslated; photographed."""
    await expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    await assert_translated(page, language)
    await page.screenshot(path=shots / f"{language}-{name}.png", full_page=True)


@pytest.fixture
async def modem_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    link = str(tmp_path / "gsmmodem0")
    modem = VirtualModem(VirtualConfig(pin="1234"), link=link)
    modem.start()
    config = f"device = {link}\nbaudrate = 115200\npin = 1234"
    allow = [str(tmp_path / "gsmmodem*")]
    try:
        async with running_system(tmp_path, "modem", config, allow, strict_translations=True) as (
            server,
            _,
        ):
            yield server, modem
    finally:
        modem.stop()


# Per page: where it is, its name in the screenshots, its heading in each language.
TOUR = [
    ("/", "accounts", {"cs": "SMS účty", "en": "SMS accounts"}),
    ("/accounts/new", "account-new", {"cs": "Nový SMS účet", "en": "New SMS account"}),
    ("/accounts/{id}", "account-edit", {"cs": "Upravit GSM1", "en": "Edit GSM1"}),
    (
        "/accounts/{id}/delete",
        "account-delete",
        {"cs": "Smazat účet GSM1?", "en": "Delete the account GSM1?"},
    ),
    (
        "/accounts/{id}/test",
        "account-test",
        {"cs": "Poslat zkušební SMS z účtu GSM1", "en": "Send a test SMS from GSM1"},
    ),
    ("/messages", "messages", {"cs": "Zprávy", "en": "Messages"}),
    (
        "/conversations/%2B420774884138",
        "conversation",
        {"cs": "Konverzace s +420774884138", "en": "Conversation with +420774884138"},
    ),
    ("/agents", "agents", {"cs": "Agenti", "en": "Agents"}),
    ("/users", "users", {"cs": "Uživatelé", "en": "Users"}),
    (
        "/settings",
        "settings",
        {"cs": "Váš jazyk a časové pásmo", "en": "Your language and time zone"},
    ),
    ("/webhooks", "webhooks", {"cs": "Webhooky", "en": "Webhooks"}),
    ("/webhooks/{hook}", "webhook", {"cs": "Webhook {hook}", "en": "Webhook {hook}"}),
    ("/send", "send", {"cs": "Poslat SMS", "en": "Send SMS"}),
    (
        "/scheduled",
        "scheduled",
        {"cs": "Naplánované, zrušené a prošlé", "en": "Scheduled, cancelled and expired"},
    ),
    ("/optouts", "optouts", {"cs": "Odhlášená čísla", "en": "Opt-outs"}),
    ("/accounts/999999", "error", {"cs": "Nenalezeno", "en": "Not found"}),
]


def heading_of(name: str, language: str) -> str:
    return next(h for _, n, h in TOUR if n == name)[language]


async def test_every_page_reads_in_czech_and_in_english_with_nothing_untranslated(
    browser: Browser, screenshots: Path, modem_system
):
    server, modem = modem_system
    account = next(a for a in await server.api("GET", "/api/accounts") if a["name"] == "GSM1")
    modem.deliver(SENDER, "Dobrý den, kdy přijedete?")
    # Something on each control and webhook page: a webhook with a delivery (to a port that
    # does not answer), a message scheduled for later, an opt-out.
    crm = {"url": "http://127.0.0.1:9/crm", "events": ["message.received"], "description": "CRM"}
    hook = await server.api("POST", "/api/webhooks", json=crm)
    await server.api("POST", f"/api/webhooks/{hook['id']}/test")
    send_at = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    later = {"to": "+420777000111", "text": "Zítra v 9:00", "send_at": send_at}
    await server.api("POST", "/api/messages", json={**later, "account": account["id"]})
    await server.api("POST", "/api/optouts", json={"number": "+420777000222", "reason": "STOP"})
    for language, button in (("cs", "Přihlásit se"), ("en", "Log in")):
        page, errors = await new_page(browser, language)
        await page.goto(f"{server.url}/login")
        await visit(page, screenshots, language, "login", button)
        await log_in(page, server.url, button)
        for path, name, heading in TOUR:
            await page.goto(server.url + path.format(id=account["id"], hook=hook["id"]))
            if name == "agents":  # once the line has reported, every part of it shows
                await expect(page.locator(".dbm")).to_have_text("-71 dBm", timeout=30_000)
            if name == "account-new":
                await page.locator("#config-help summary").click()
            if name == "messages":
                received = {"cs": "přijato", "en": "received"}[language]
                states = page.locator("#message-rows .state").filter(has_text=received)
                await expect(states.first).to_have_text(received, timeout=30_000)
            if name == "webhook":  # the test event's first attempt, refused by the port
                await expect(page.locator("#deliveries .attempts li").first).to_be_visible(
                    timeout=30_000
                )
            if name == "send":  # the live part count, in the page's language
                await page.locator("#text").fill("Ahoj")
                await expect(page.locator("#part-count")).to_contain_text(
                    {"cs": "1 část", "en": "1 part"}[language]
                )
            if name == "scheduled":
                await expect(page.locator("#scheduled time").first).to_be_visible()
            await visit(
                page, screenshots, language, name, heading[language].format(hook=hook["id"])
            )
        # A webhook refused: the sentence for its code in the page's language.
        await page.goto(f"{server.url}/webhooks")
        await page.locator("#new-url").fill("http://127.0.0.1:9/")
        await page.locator("#new-url").evaluate("e => { e.type = 'text'; e.value = 'x'; }")
        await page.get_by_role(
            "button", name={"cs": "Vytvořit webhook", "en": "Create webhook"}[language]
        ).click()
        await expect(page.locator("#new-err")).to_contain_text(
            {"cs": "Na tuto adresu URL nelze posílat webhooky.", "en": "use http:// or https://"}[
                language
            ]
        )
        await visit(page, screenshots, language, "webhooks-error", heading_of("webhooks", language))
        # A configuration refused: each problem beside its line, in the page's language.
        await page.goto(f"{server.url}/accounts/{account['id']}")
        await page.locator("#config").fill("device = dev/x\nbaudrate = 115200\npin = 1234")
        await page.get_by_role("button", name={"cs": "Uložit", "en": "Save"}[language]).click()
        await expect(page.locator('.config-lines li[data-line="1"]')).to_contain_text(
            {
                "cs": "řádek 1: 'device' musí být absolutní cesta (začínající /), ne 'dev/x'",
                "en": "line 1: 'device' must be an absolute path (starting with /), not 'dev/x'",
            }[language]
        )
        await expect(page.locator("#config-errors")).to_contain_text(
            {"cs": "chybí povinný klíč 'agent'", "en": "missing required key 'agent'"}[language]
        )
        edit = {"cs": "Upravit GSM1", "en": "Edit GSM1"}[language]
        await visit(page, screenshots, language, "account-config-error", edit)
        await page.context.close()
        assert unexpected(errors, 404, 422) == []


async def test_a_reply_from_the_conversation_goes_out_through_the_virtual_modem(
    browser: Browser, screenshots: Path, modem_system
):
    server, modem = modem_system
    modem.deliver(SENDER, "Přijedete zítra?")
    page, errors = await new_page(browser, "cs")
    await log_in(page, server.url, "Přihlásit se")
    await page.get_by_role("link", name="Zprávy").click()
    number = page.locator("#message-rows").get_by_role("link", name=SENDER)
    await number.click(timeout=30_000)
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Konverzace s {SENDER}")
    inbound = page.locator('.bubble[data-direction="in"]')
    await expect(inbound).to_contain_text("Přijedete zítra?")
    await expect(inbound).to_contain_text("GSM1")
    await expect(page.locator("#reply")).to_contain_text("Odejde přes účet GSM1")

    box = page.get_by_label("Odpověď")
    await box.fill("Ano, v 9:00")
    await expect(page.locator("#preview")).to_contain_text("1 část SMS")
    await expect(page.locator("#preview")).to_contain_text("GSM 7-bit")
    await box.fill("Ano, přijedu v 9:00 ř" + "x" * 60)
    await expect(page.locator("#preview")).to_contain_text("2 části SMS")
    await expect(page.locator("#preview .ucs2")).to_contain_text("ř")
    await box.fill("Ano, přijedu zítra v 9:00.")
    await expect(page.locator("#preview")).to_contain_text("1 část SMS")
    await assert_translated(page, "cs")
    await page.screenshot(path=screenshots / "cs-conversation-reply.png", full_page=True)
    await page.get_by_role("button", name="Odeslat").click()

    outbound = page.locator('.bubble[data-direction="out"]')
    await expect(outbound).to_contain_text("Ano, přijedu zítra v 9:00.")
    await expect(outbound.locator(".state")).to_have_text(
        re.compile("^(odesláno|doručeno)$"), timeout=30_000
    )
    assert [s.submit.text for s in modem.submissions] == ["Ano, přijedu zítra v 9:00."]
    assert modem.submissions[0].submit.recipient.endswith("774884138")
    # Newest at the bottom: the reply follows the question.
    directions = await page.locator(".bubble").evaluate_all(
        "els => els.map(e => e.dataset.direction)"
    )
    assert directions == ["in", "out"]
    await page.screenshot(path=screenshots / "cs-conversation-sent.png", full_page=True)
    assert unexpected(errors) == []


async def test_times_are_in_prague_on_both_sides_of_the_spring_change_with_the_zone_shown(
    browser: Browser, screenshots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    db = f"sqlite:///{tmp_path}/s.sqlite"
    async with live_server(db, str(tmp_path / "k"), strict_translations=True) as live:
        srv = server_of(live)
        # 00:59:59Z is 01:59:59 CET; a second later the clocks jump to 03:00:00 CEST.
        times = {
            "před změnou": dt.datetime(2026, 3, 29, 0, 59, 59, tzinfo=dt.UTC),
            "po změně": dt.datetime(2026, 3, 29, 1, 0, 0, tzinfo=dt.UTC),
        }
        async with srv.sessions.begin() as session:
            account = (await session.execute(select(Account))).scalars().first()
            for text, when in times.items():
                stored = await store_inbound(session, account, SENDER, text)
                await session.execute(
                    update(Message).where(Message.id == stored.id).values(created_at=when)
                )
        expected = {
            "cs": ("29. 3. 2026 1:59:59 SEČ", "29. 3. 2026 3:00:00 SELČ"),
            "en": ("Mar 29, 2026, 1:59:59 AM CET", "Mar 29, 2026, 3:00:00 AM CEST"),
        }
        for language, button in (("cs", "Přihlásit se"), ("en", "Log in")):
            page, _ = await new_page(browser, language)
            await log_in(page, live.url, button)
            await page.goto(f"{live.url}/messages")
            rows = page.locator("#message-rows tr")
            shown = {
                await row.locator(".text").inner_text(): (
                    await row.locator("time").first.inner_text()
                ).replace("\u202f", " ")
                for row in await rows.all()
            }
            assert shown == dict(zip(times, expected[language], strict=True)), shown
            await expect(page.locator(".hint").first).to_contain_text("Europe/Prague")
            await assert_translated(page, language)
            await page.screenshot(path=screenshots / f"{language}-messages-dst.png", full_page=True)
            await page.context.close()


async def test_the_check_finds_what_was_left_untranslated_and_spares_user_content(
    browser: Browser,
):
    page, _ = await new_page(browser, "cs")
    await page.set_content(
        '<html lang="cs"><body><h1>Zprávy</h1><p>Times in ⟦Europe⟧</p>'
        '<p translate="no">Meet you there</p><p lang="en">the detail</p>'
        "<p>Not sent yet</p><code>the key</code></body></html>"
    )
    assert await untranslated(page) == ["Europe"]
    assert await english_left(page) == ["Not sent yet"]
    with pytest.raises(AssertionError, match="Europe"):
        await assert_translated(page, "cs")
    await page.context.close()
