"""The control pages in real headless Chromium against a real sms-server: Send SMS with
its live part count and stripped-diacritics preview, a scheduled message cancelled from
the scheduled page, and the opt-out list's add and remove."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.bridge.live import ADMIN_TOKEN, live_server

from .test_pages import log_in, new_page, shoot, unexpected

pytestmark = pytest.mark.peer("chromium")

URL = "url = https://sms.example/send?to=[PHONE]&text=[MSG]"


async def test_send_schedule_cancel_and_opt_out_in_chromium(
    browser: Browser, screenshots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    async with live_server(f"sqlite:///{tmp_path}/s.sqlite", str(tmp_path / "k")) as server:
        await server.api(
            "POST",
            "/api/accounts",
            json={"name": "Web", "gateway": "url", "config": URL, "strip_diacritics": True},
        )
        page, errors = await new_page(browser)
        await log_in(page, server.url)

        await page.get_by_role("link", name="Send SMS").click()
        await page.get_by_label("Account").select_option(label="Web (url)")
        await page.get_by_label("To").fill("+420601111222")
        await page.get_by_label("Text").fill("Příliš žluťoučký kůň")
        await expect(page.locator("#part-count")).to_contain_text("1 part")
        await expect(page.locator("#stripped")).to_have_text("Prilis zlutoucky kun")
        await page.get_by_label("Text").fill("x" * 161)
        await expect(page.locator("#part-count")).to_contain_text("2 parts")
        later = dt.datetime.now() + dt.timedelta(days=1)
        await page.get_by_label("Send at").fill(later.strftime("%Y-%m-%dT%H:%M"))
        await page.get_by_label("Valid for").fill("30")
        await page.get_by_label("Priority").select_option("bulk")
        await shoot(page, screenshots, "send-sms")
        await page.get_by_role("button", name="Send", exact=True).click()

        await expect(
            page.get_by_role("heading", name="Scheduled, cancelled and expired")
        ).to_be_visible()
        row = page.locator("#scheduled tbody tr").first
        await expect(row).to_contain_text("scheduled")
        await expect(row).to_contain_text("bulk")
        await shoot(page, screenshots, "scheduled")
        await row.get_by_role("button", name="Cancel the message to +420601111222").click()
        await expect(page.locator("#scheduled tbody tr").first).to_contain_text("cancelled")
        await expect(
            page.get_by_role("button", name="Cancel the message to +420601111222")
        ).to_have_count(0)

        await page.get_by_role("link", name="Opt-outs").click()
        await expect(page.locator("#optouts")).to_contain_text("Nobody has opted out")
        await page.get_by_label("Number").fill("601 111 222")
        await page.get_by_label("Reason").fill("asked by phone")
        await page.get_by_role("button", name="Add").click()
        await expect(page.locator("#optouts")).to_contain_text("+420601111222")
        await expect(page.locator("#optouts")).to_contain_text("every account")
        await shoot(page, screenshots, "optouts")
        await page.get_by_role("button", name="Remove +420601111222").click()
        await expect(page.locator("#optouts")).to_contain_text("Nobody has opted out")
        assert unexpected(errors, 401) == []  # log_in tries a wrong token first
