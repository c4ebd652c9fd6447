"""The webhooks pages in headless Chromium against a real server and a real endpoint:
create one (the secret shown once), see a test event's attempt, redeliver it with the same
webhook-id, edit, refuse a bad URL beside the field, delete."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.bridge.live import live_server
from tests.events.receiver import Receiver
from tests.waiting import eventually

from .test_pages import log_in, new_page, shoot, unexpected

pytestmark = pytest.mark.peer("chromium")


async def test_webhooks_are_created_tested_redelivered_and_deleted(
    browser: Browser, screenshots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.bridge.live import ADMIN_TOKEN

    monkeypatch.setenv("SMSBRIDGE_ADMIN_TOKEN", ADMIN_TOKEN)
    receiver = Receiver(script=lambda n, e: 500 if n == 0 else 200)
    with receiver.running():
        async with live_server(f"sqlite:///{tmp_path}/s.sqlite", str(tmp_path / "k")) as server:
            page, errors = await new_page(browser)
            await log_in(page, server.url)
            await page.get_by_role("link", name="Webhooks").click()
            await expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()

            # A URL of a scheme that is not http(s): refused beside the field.
            await page.get_by_label("URL (http or https)").fill("ftp://crm.example/hook")
            await page.get_by_role("button", name="Create webhook").click()
            await expect(page.locator("#new-err")).to_contain_text("'ftp' is not allowed")

            await page.get_by_label("URL (http or https)").fill(receiver.url)
            await page.get_by_label("every event").check()
            await page.get_by_label("Description").fill("the CRM")
            await page.get_by_role("button", name="Create webhook").click()
            secret = await page.locator("[data-secret]").text_content()
            assert secret and secret.startswith("whsec_")
            receiver.secret = secret
            await expect(page.locator("#webhooks")).to_contain_text("the CRM")
            await shoot(page, screenshots, "webhooks")

            await page.get_by_role("link", name=receiver.url).click()
            await page.get_by_role("button", name="Send a test event").click()
            await expect(page.get_by_role("status")).to_contain_text("webhook.test")
            # The first attempt got a 500, the retry a 200: both are listed.
            await eventually(lambda: len(receiver.accepted()) == 1, 10, "test event delivered")
            row = page.locator("#deliveries tbody tr").first

            async def recorded() -> bool:  # the outcome is stored just after the answer
                await page.reload()
                return "delivered" in (await row.text_content() or "")

            await eventually(recorded, 10, "the attempt recorded", interval=0.2)
            await expect(row.locator("ol.attempts li")).to_have_count(2)
            await expect(row.locator("ol.attempts li").first).to_contain_text("500")
            await shoot(page, screenshots, "webhook")

            await row.get_by_role("button", name="Redeliver").click()
            await eventually(lambda: len(receiver.accepted()) == 2, 10, "redelivered")
            first, again = receiver.accepted()
            assert first.valid and again.valid and first.webhook_id == again.webhook_id

            await page.get_by_label("active").uncheck()
            await page.get_by_role("button", name="Save").click()
            await expect(page.get_by_role("status")).to_have_text("Saved.")
            await expect(page.locator("main")).to_contain_text("(inactive)")

            await page.get_by_label("delete this webhook").check()
            await page.get_by_role("button", name="Delete webhook").click()
            await expect(page.locator("#webhooks")).to_contain_text("No webhooks yet.")
            assert unexpected(errors, 401, 422) == []  # the wrong login, the refused URL
