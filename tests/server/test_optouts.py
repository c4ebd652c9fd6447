"""Opt-out: STOP (or the account's keywords) from a number puts it on the suppression
list; a send to it is a 422 `opted_out` naming the number and when; /api/optouts."""

from __future__ import annotations

from server.db.tables import Account
from server.messages.inbound import store_inbound
from server.messages.optout import is_optout, keywords_of
from server.runtime import Server
from tests.server.conftest import Api, error_of

NUMBER = "+420601111222"
URL = "url = https://sms.example/send?to=[PHONE]&text=[MSG]"


def test_keywords_match_the_whole_text_or_its_first_word_ignoring_case_and_accents() -> None:
    words = keywords_of({})
    assert words == {"stop", "odhlasit"}
    for text in ("STOP", "stop.", " Stop please", "Odhlásit", "ODHLÁSIT prosím", "stop!"):
        assert is_optout(text, words), text
    for text in ("", "please stop", "nestop", "stopka", "Ahoj"):
        assert not is_optout(text, words), text
    assert is_optout("Konec", keywords_of({"optout_keywords": "KONEC, Zrušit"}))
    assert not is_optout("STOP", keywords_of({"optout_keywords": "KONEC"}))


async def account(api: Api, extra: str = "") -> int:
    return int((await api.account(config=f"{URL}\n{extra}"))["id"])


async def send(api: Api, account_id: int, token: str | None = None, **body: object):
    kw = {} if token is None else {"token": token}
    return await api.post(
        "/api/messages", json={"to": NUMBER, "text": "offer", "account": account_id} | body, **kw
    )


async def receive(server: Server, account_id: int, text: str) -> str | None:
    async with server.sessions.begin() as session:
        row = await session.get(Account, account_id)
        message = await store_inbound(session, row, NUMBER, text)
        return message.detail


async def test_stop_blocks_the_next_send_to_that_number_on_that_account(
    api: Api, server: Server
) -> None:
    mine, other = await account(api), await account(api)
    assert (await send(api, mine)).status_code == 202
    detail = await receive(server, mine, "Stop")
    assert detail is not None and detail.startswith(f"opt-out: {NUMBER}")
    r = await send(api, mine)
    assert error_of(r) == (422, "opted_out")
    assert NUMBER in r.json()["detail"] and f"account {mine}" in r.json()["detail"]
    assert (await send(api, other)).status_code == 202  # optout_scope = account
    listed = (await api.get("/api/optouts")).json()
    assert [(o["number"], o["account"]) for o in listed] == [(NUMBER, mine)]
    assert listed[0]["reason"].startswith("STOP received on account")
    # Transactional goes only where the account allows it.
    assert error_of(await send(api, mine, category="transactional"))[1] == "opted_out"
    r = await api.delete(f"/api/optouts/{NUMBER}", params={"account": mine})
    assert r.status_code == 204
    assert (await send(api, mine)).status_code == 202
    assert error_of(await api.delete(f"/api/optouts/{NUMBER}")) == (404, "not_found")


async def test_scope_all_and_transactional_allow(api: Api, server: Server) -> None:
    strict = await account(api, "optout_scope = all\noptout_keywords = KONEC")
    lenient = await account(api, "optout_transactional = allow")
    assert await receive(server, strict, "STOP") is None  # not this account's keyword
    assert await receive(server, strict, "konec prosím") is not None
    assert error_of(await send(api, lenient))[1] == "opted_out"  # every account
    assert (await send(api, lenient, category="transactional")).status_code == 202


async def test_optouts_api_is_for_admins_and_compares_in_e164(api: Api) -> None:
    acct = await account(api)
    r = await api.post("/api/optouts", json={"number": "601 111 222", "reason": "asked by phone"})
    assert r.status_code == 201, r.text
    assert r.json()["number"] == NUMBER and r.json()["account"] is None
    again = await api.post("/api/optouts", json={"number": "00420601111222"})
    assert again.json()["time"] == r.json()["time"]  # one entry per scope
    assert error_of(await send(api, acct, to="+420 601 111 222"))[1] == "opted_out"
    assert error_of(await api.post("/api/optouts", json={"number": "hello!"}))[0] == 422
    token = await api.user("clerk", "send")
    assert error_of(await api.get("/api/optouts", token=token)) == (403, "forbidden")
    by_number = await api.get("/api/optouts", params={"number": "601111222"})
    assert len(by_number.json()) == 1
