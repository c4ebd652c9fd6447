"""POST /api/messages/batch: shared defaults, a result per item with its index and key,
each item committed on its own (bad ones refuse only themselves), keys idempotent."""

from __future__ import annotations

from tests.server.conftest import Api, error_of

URL = "url = https://sms.example/send?to=[PHONE]&text=[MSG]"


async def test_a_batch_with_bad_items_accepts_the_rest(api: Api) -> None:
    account = int((await api.account(config=URL))["id"])
    await api.post("/api/optouts", json={"number": "+420601000003"})
    items = [
        {"to": "+420601000001", "key": "a"},
        {"to": "not a number", "key": "b"},
        {"to": "+420601000002", "text": "x" * 5001, "key": "c"},
        {"to": "+420601000003", "key": "d"},  # opted out
        {"to": "+420601000004", "priority": "urgent"},
        {"to": "+420601000005", "text": "own text", "send_at": "2099-01-01T00:00:00"},
        {"to": "+420601000006", "key": 7},
        {"to": "+420601000007", "priority": "bulk"},
    ]
    body = {"defaults": {"text": "Hello", "account": account}, "messages": items}
    r = await api.post("/api/messages/batch", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    results = got["results"]
    assert [x["index"] for x in results] == list(range(len(items)))
    assert [x["status"] for x in results] == [202, 422, 400, 422, 400, 400, 400, 202]
    assert [x["error"] for x in results] == [
        None,
        "invalid_number",
        "invalid_request",
        "opted_out",
        "invalid_request",
        "invalid_request",
        "invalid_request",
        None,
    ]
    assert (got["accepted"], got["refused"]) == (2, 6)
    assert results[0]["key"] == "a" and results[3]["key"] == "d"
    assert "+420601000003" in results[3]["detail"]
    assert "no time zone" in results[5]["detail"]
    for ok in (results[0], results[7]):
        m = (await api.get(f"/api/messages/{ok['id']}")).json()
        assert m["text"] == "Hello" and m["account"] == account
    assert (await api.get(f"/api/messages/{results[7]['id']}")).json()["priority"] == "bulk"
    # The same batch again: keyed items answer what they got, nothing is sent twice.
    again = (await api.post("/api/messages/batch", json=body)).json()["results"]
    assert again[0]["id"] == results[0]["id"]
    assert again[7]["id"] != results[7]["id"]  # no key: a new message


async def test_a_batch_is_at_most_1000_items(api: Api) -> None:
    body = {"messages": [{"to": "+420601000001", "text": "x"}] * 1001}
    assert error_of(await api.post("/api/messages/batch", json=body))[0] == 400
    assert error_of(await api.post("/api/messages/batch", json={"messages": []}))[0] == 400
