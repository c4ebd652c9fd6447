"""The web pages in real headless Chromium against a real sms-server: log in, manage
accounts of every gateway type, see a bad configuration line marked, send a test SMS
through the virtual modem and watch it turn sent, and see the modem's signal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from agent.modem.virtual import VirtualModem
from agent.modem.virtual_core import VirtualConfig
from tests.bridge.live import ADMIN_TOKEN, live_server
from tests.integration.system import running_system

from .conftest import DESKTOP, PHONE

pytestmark = pytest.mark.peer("chromium")

# A valid configuration for each gateway type (agent-backed ones name the agent office-1).
CONFIGS = {
    "smsbrana": "login = crm\npassword = s3cret-brana",
    "o2": "id = 0123456\ncert = /etc/smsbridge/o2.p12\ncertPasswd = s3cret-o2",
    "url": "url = https://sms.example/send?to=[PHONE]&text=[MSG]",
    "smstools": "in = /var/spool/sms/incoming\nout = /var/spool/sms/outgoing\nmodem = GSM1\n"
    "agent = office-1",
    "smslib": "sqlDriver = com.mysql.jdbc.Driver\nsqlURL = jdbc:mysql://db/sms\nsqlUser = sms\n"
    "sqlPassword = s3cret-sql\ngatewayId = modem1\nagent = office-1",
    "modem": "device = /dev/gsmmodem0\nbaudrate = 115200\npin = 1234\nagent = office-1",
    "gammu": "device = /dev/gsmmodem1\nconnection = at\nagent = office-1",
}


async def new_page(browser: Browser) -> tuple[Page, list[str]]:
    """A page, and the browser console's errors (a refused htmx refresh, a CSP violation)."""
    # English whatever the machine's locale: the pages follow the browser's language.
    page = await (await browser.new_context(viewport=DESKTOP, locale="en-US")).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


def unexpected(errors: list[str], *expected: int) -> list[str]:
    """Console errors but the failed loads of statuses the test caused on purpose (a wrong
    login answers 401, a refused form 422): Chromium logs those as failed loads too."""
    return [e for e in errors if not any(f"status of {code} " in e for code in expected)]


async def shoot(page: Page, directory: Path, name: str) -> None:
    """The page at desktop width, then at phone width."""
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=directory / f"{name}.png", full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=directory / f"{name}-phone.png", full_page=True)
    await page.set_viewport_size(DESKTOP)


async def log_in(page: Page, base: str, screenshots: Path | None = None) -> None:
    await page.goto(f"{base}/")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    await page.get_by_label("API token").fill("sbu_wrong")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("#login-error")).to_contain_text("Unknown user or wrong password")
    if screenshots:
        await shoot(page, screenshots, "login-failed")
    # By keyboard alone: the token field, Enter submits.
    await page.get_by_label("API token").focus()
    await page.keyboard.type(ADMIN_TOKEN)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="SMS accounts")).to_be_visible()
    await page.keyboard.press("Tab")  # the first stop skips the navigation
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()


async def test_accounts_of_every_gateway_are_created_checked_edited_and_deleted(
    browser: Browser, screenshots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    async with live_server(f"sqlite:///{tmp_path}/s.sqlite", str(tmp_path / "k")) as server:
        await server.api("POST", "/api/agents", json={"name": "office-1"})
        page, errors = await new_page(browser)
        await log_in(page, server.url, screenshots)

        for gateway, config in CONFIGS.items():
            await page.get_by_role("link", name="New account").click()
            await page.get_by_label("Name").fill(f"Acct {gateway}")
            await page.get_by_label("Gateway").select_option(gateway)
            # htmx swaps in the chosen gateway's keys, each with its one-line help.
            first_key = config.split(" = ")[0]
            await expect(page.locator("#config-help")).to_contain_text(f"{gateway}:")
            await expect(page.locator("#config-help dt").first).to_contain_text(first_key)
            # The untouched box now holds this gateway's required keys, ready to fill in.
            await expect(page.get_by_label("Configuration", exact=True)).to_have_value(
                re.compile(f"^{first_key} = ")
            )
            if gateway == "smsbrana":
                await page.get_by_text("smsbrana error codes").click()
                await expect(page.locator("#config-help table")).to_contain_text(
                    "too little credit"
                )
                await shoot(page, screenshots, "account-new-smsbrana")
            await page.get_by_label("Configuration", exact=True).fill(config)
            await page.get_by_role("button", name="Create account").click()
            await expect(page.get_by_role("status")).to_contain_text(f"Acct {gateway} created")
            row = page.locator(f'tr[data-account="Acct {gateway}"]')
            await expect(row.locator('td[data-label="Gateway"]')).to_have_text(gateway)
        await expect(page.locator("#accounts tbody tr")).to_have_count(len(CONFIGS) + 1)
        await expect(page.locator('tr[data-account="Acct modem"]')).to_contain_text("offline")
        await shoot(page, screenshots, "accounts")

        # A bad line: the error sits beside that line, the good ones stay unmarked.
        await page.get_by_role("link", name="Edit Acct url").click()
        await page.get_by_label("Configuration", exact=True).fill(
            "# where to send\nurl = https://sms.example/send?to=[PHONE]\nspeed = fast"
        )
        await page.get_by_role("button", name="Save").click()
        bad = page.locator('.config-lines li[data-line="2"]')
        await expect(bad).to_contain_text("line 2: 'url' must contain [PHONE] and [MSG]")
        await expect(page.locator('.config-lines li[data-line="3"]')).to_contain_text(
            "unknown key 'speed'"
        )
        await expect(page.locator('.config-lines li[data-line="1"] .line-error')).to_have_count(0)
        await shoot(page, screenshots, "account-config-error")

        # Fix it and rename: saved.
        await page.get_by_label("Name").fill("Acct url renamed")
        await page.get_by_label("Configuration", exact=True).fill(CONFIGS["url"])
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_contain_text("Acct url renamed saved")

        # Secrets: shown as set, never read back.
        await page.get_by_role("link", name="Edit Acct smslib").click()
        await expect(page.locator(".secrets")).to_contain_text("sqlPassword: set")
        assert "s3cret-sql" not in await page.content()
        assert (
            "sqlPassword = (set)"
            in await page.get_by_label("Configuration", exact=True).input_value()
        )
        await page.get_by_role("link", name="Cancel").click()

        # Default: one at a time.
        await page.get_by_role("button", name="Make Acct gammu the default account").click()
        await expect(page.get_by_role("status")).to_contain_text("Acct gammu is now the default")
        await expect(page.locator('tr[data-account="Acct gammu"] td.default')).to_have_text(
            "default"
        )
        defaults = [a for a in await server.api("GET", "/api/accounts") if a["default"]]
        assert [a["name"] for a in defaults] == ["Acct gammu"]

        # Delete, after a confirmation page.
        await page.get_by_role("link", name="Delete Acct o2").click()
        await expect(page.get_by_role("heading")).to_contain_text("Delete the account Acct o2?")
        await shoot(page, screenshots, "account-delete")
        await page.get_by_role("button", name="Delete Acct o2").click()
        await expect(page.get_by_role("status")).to_contain_text("Acct o2 deleted")
        await expect(page.locator('tr[data-account="Acct o2"]')).to_have_count(0)
        names = {a["name"] for a in await server.api("GET", "/api/accounts")}
        assert "Acct o2" not in names and "Acct url renamed" in names

        # Users: one created (its token shown once), a password set for the pages.
        await page.get_by_role("link", name="Users").click()
        await page.get_by_label("Name").fill("clerk")
        await page.get_by_role("button", name="Create user").click()
        await expect(page.locator("[data-token]")).to_have_text(re.compile(r"^sbu_"))
        await shoot(page, screenshots, "users")
        row = page.locator('tr[data-user="clerk"]')
        await row.get_by_label("New password for clerk").fill("a good password")
        await row.get_by_label("Again").fill("a good password")
        await row.get_by_role("button", name="Set password").click()
        await expect(page.get_by_role("status")).to_contain_text("The password of clerk is set")
        users = {u["name"]: u["password"] for u in await server.api("GET", "/api/users")}
        assert users["clerk"] is True
        assert unexpected(errors, 401, 422) == []


@pytest.fixture
async def modem_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    link = str(tmp_path / "gsmmodem0")
    modem = VirtualModem(VirtualConfig(pin="1234"), link=link)
    modem.start()
    config = f"device = {link}\nbaudrate = 115200\npin = 1234"
    try:
        async with running_system(tmp_path, "modem", config, [str(tmp_path / "gsmmodem*")]) as (
            server,
            _,
        ):
            yield server, modem
    finally:
        modem.stop()


async def test_a_test_sms_goes_out_through_the_virtual_modem_and_the_agents_page_shows_it(
    browser: Browser, screenshots: Path, modem_system
):
    server, modem = modem_system
    page, errors = await new_page(browser)
    await log_in(page, server.url)

    # The agents page: online, the line up, the virtual modem's signal (CSQ 21 = -71 dBm).
    await page.get_by_role("link", name="Agents").click()
    agent = page.locator('section[data-agent="office-1"]')
    await expect(agent.locator("h2 .badge")).to_have_text("online")
    line = agent.locator('article[data-line="GSM1"]')
    await expect(line.locator(".dbm")).to_have_text("-71 dBm", timeout=30_000)
    await expect(line.locator(".bars")).to_have_attribute("aria-label", re.compile(r"of 5 bars"))
    await expect(line).to_contain_text("Virtual Operator")
    await expect(line).to_contain_text("home")
    await expect(line).to_contain_text("Agent's outbox")
    await shoot(page, screenshots, "agents")

    # A test SMS from the account: queued, then sent by the modem, seen on the page itself.
    await page.get_by_role("link", name="Accounts").click()
    await expect(page.locator('tr[data-account="GSM1"]')).to_contain_text("online")
    await page.get_by_role("link", name="Send a test SMS from GSM1").click()
    await page.get_by_label("To").fill("+420774884138")
    await page.get_by_label("Text").fill("Zkouška z prohlížeče")
    await page.get_by_role("button", name="Send").click()
    await expect(page).to_have_url(re.compile(r"/messages\?account=\d+&sent="))
    row = page.locator("#message-rows tr.highlight")
    await expect(row.locator(".state")).to_have_text(
        re.compile(r"^(sent|delivered)$"), timeout=30_000
    )
    assert [s.submit.text for s in modem.submissions] == ["Zkouška z prohlížeče"]
    await shoot(page, screenshots, "messages")
    assert unexpected(errors, 401) == []
