"""The control pages without a browser: Send SMS (with its preview), scheduled messages
with their cancel button, the opt-out list with add and remove."""

from __future__ import annotations

import datetime as dt

import httpx

from .conftest import Api
from .test_web_pages import admin, form_csrf  # noqa: F401 - the logged-in client fixture

URL = "url = https://sms.example/send?to=[PHONE]&text=[MSG]"


async def test_send_form_schedules_and_the_scheduled_page_cancels(
    api: Api,
    admin: httpx.AsyncClient,  # noqa: F811
) -> None:
    account = (await api.account(config=URL, strip_diacritics=True))["id"]
    preview = await admin.get(
        "/send/preview", params={"text": "Příliš žluťoučký", "account": account}
    )
    assert "1 part" in preview.text and "Prilis zlutoucky" in preview.text
    csrf = await form_csrf(admin, "/send")
    later = dt.datetime.now() + dt.timedelta(days=1)
    form = {
        "_csrf": csrf,
        "account": str(account),
        "to": "+420601111222",
        "text": "tomorrow",
        "send_at": later.strftime("%Y-%m-%dT%H:%M"),
        "ttl": "30",
        "priority": "high",
    }
    r = await admin.post("/send", data=form)
    assert r.status_code == 303 and r.headers["location"].startswith("/scheduled?sent=")
    page = await admin.get(r.headers["location"])
    assert "tomorrow" in page.text and "Cancel" in page.text
    mid = r.headers["location"].split("=", 1)[1]
    got = (await api.get(f"/api/messages/{mid}")).json()
    assert got["state"] == "scheduled" and got["priority"] == "high"
    valid = dt.datetime.fromisoformat(got["valid_until"]) - dt.datetime.fromisoformat(
        got["send_at"]
    )
    assert valid == dt.timedelta(minutes=30)
    r = await admin.post(f"/scheduled/{mid}/cancel", data={"_csrf": csrf})
    assert r.status_code == 303
    assert (await api.get(f"/api/messages/{mid}")).json()["state"] == "cancelled"
    again = await admin.post(f"/scheduled/{mid}/cancel", data={"_csrf": csrf})
    assert again.status_code == 409 and "cancelled already" in again.text
    bad = await admin.post("/send", data=form | {"to": "hello!", "send_at": ""})
    assert bad.status_code == 422 and 'aria-describedby="to-error"' in bad.text


async def test_optout_page_adds_and_removes(api: Api, admin: httpx.AsyncClient) -> None:  # noqa: F811
    csrf = await form_csrf(admin, "/optouts")
    r = await admin.post(
        "/optouts", data={"_csrf": csrf, "number": "601 111 222", "reason": "phone call"}
    )
    assert r.status_code == 303
    page = await admin.get("/optouts")
    assert "+420601111222" in page.text and "phone call" in page.text
    bad = await admin.post("/optouts", data={"_csrf": csrf, "number": "nope!"})
    assert bad.status_code == 422 and "number-error" in bad.text
    r = await admin.post("/optouts/remove", data={"_csrf": csrf, "number": "+420601111222"})
    assert r.status_code == 303
    assert (await api.get("/api/optouts")).json() == []
