"""The pure smsbrana core: the spec's test vectors, Prague time, parameters, XML, error codes."""

from __future__ import annotations

import datetime as dt

import pytest

from server.gateways.smsbrana import protocol as p
from sms.model import MessageState


def test_digest_matches_the_django_apps_vector() -> None:
    assert (
        p.digest("test", "20120223T111313", "73952a8e84f14b4caaf1e38f81f14e0a")
        == "34204a8d27474431b585e3dff75db101"
    )


def test_digest_matches_the_synthesized_vectors() -> None:
    assert p.digest("s3cret", "20250314T093015", "k3j9x2m1qa") == "22fe0f4d9f178ddca1114b477e416c4f"
    assert (
        p.digest("s3cret", "2025-03-14T09:30:15+01:00", "k3j9x2m1qa")
        == "eacc31d2f82d651f32b454aa67155205"
    )


def test_time_is_prague_local_in_winter_and_summer() -> None:
    assert p.prague_time(dt.datetime(2025, 3, 14, 8, 30, 15, tzinfo=dt.UTC)) == "20250314T093015"
    assert p.prague_time(dt.datetime(2025, 7, 1, 8, 0, 0, tzinfo=dt.UTC)) == "20250701T100000"


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        p.prague_time(dt.datetime(2025, 3, 14, 8, 30))


def test_hashed_auth_sends_login_time_sul_auth_and_never_the_password() -> None:
    now = dt.datetime(2025, 3, 14, 8, 30, 15, tzinfo=dt.UTC)
    params = p.auth_params("acme", "s3cret", hashed=True, now=now, salt="k3j9x2m1qa")
    assert params == {
        "login": "acme",
        "time": "20250314T093015",
        "sul": "k3j9x2m1qa",
        "auth": "22fe0f4d9f178ddca1114b477e416c4f",
    }
    assert "s3cret" not in p.query(params)


def test_plain_auth_only_when_hash_is_false() -> None:
    now = dt.datetime.now(dt.UTC)
    assert p.auth_params("acme", "pw", hashed=False, now=now, salt="x") == {
        "login": "acme",
        "password": "pw",
    }


def test_salts_are_fresh_url_safe_and_short() -> None:
    salts = {p.new_salt() for _ in range(1000)}
    assert len(salts) == 1000
    assert all(s.isalnum() and len(s) <= 50 for s in salts)


def test_query_encodes_plus_and_space_unambiguously() -> None:
    q = p.query({"number": "+420777123456", "message": "Hello world & more"})
    assert q == "number=%2B420777123456&message=Hello%20world%20%26%20more"


def test_data_code_follows_the_text() -> None:
    assert p.data_code("Hello {world}") == "7bit"
    assert p.data_code("Příliš žluťoučký") == "ucs2"


def test_send_params_carry_our_message_id_as_user_id() -> None:
    params = p.send_params("abc123", "+420777123456", "Ahoj")
    assert params == {
        "action": "send_sms",
        "number": "+420777123456",
        "message": "Ahoj",
        "user_id": "abc123",
        "data_code": "7bit",
        "delivery_report": "1",
    }


def test_success_answer_is_parsed() -> None:
    body = (
        b"<?xml version='1.0' encoding='utf-8'?>\n<result>\n<err>0</err>\n<price>1.1</price>\n"
        b"<sms_count>1</sms_count>\n<credit>1523.32</credit>\n<sms_id>377351</sms_id>\n</result>"
    )
    a = p.parse_answer(body)
    assert a.err == 0
    assert a.fields["sms_id"] == "377351"
    assert a.number("credit") == 1523.32


def test_missing_err_counts_as_zero() -> None:
    assert p.parse_answer(b"<result><credit>1</credit></result>").err == 0


@pytest.mark.parametrize(
    "body",
    [b"<html>proxy error</html>", b"not xml", b"<result><err>x</err></result>"],
)
def test_garbage_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(p.ProtocolError):
        p.parse_answer(body)


def test_entity_expansion_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;">]><result><err>&b;</err></result>'
    )
    with pytest.raises(p.ProtocolError):
        p.parse_answer(bomb)


EXPECTED = {
    -1: (p.Action.DONE, MessageState.SENT),
    0: (p.Action.DONE, MessageState.SENT),
    1: (p.Action.RETRY_LATER, MessageState.FAILED),
    2: (p.Action.FINAL, MessageState.FAILED),
    3: (p.Action.FINAL, MessageState.FAILED),
    4: (p.Action.FINAL, MessageState.FAILED),
    5: (p.Action.FINAL, MessageState.FAILED),
    6: (p.Action.FINAL, MessageState.FAILED),
    7: (p.Action.RETRY_NOW, MessageState.FAILED),
    8: (p.Action.RETRY_LATER, MessageState.FAILED),
    9: (p.Action.FINAL, MessageState.FAILED),
    10: (p.Action.FINAL, MessageState.FAILED),
    11: (p.Action.FINAL, MessageState.FAILED),
    12: (p.Action.FINAL, MessageState.FAILED),
}


@pytest.mark.parametrize("err", sorted(EXPECTED))
def test_every_error_code_has_an_action_a_state_a_reason_and_a_text(err: int) -> None:
    info = p.error_info(err)
    assert (info.action, info.state) == EXPECTED[err]
    assert info.reason and " " not in info.reason
    assert len(info.text) > 15


def test_unknown_codes_are_unknown_errors() -> None:
    info = p.error_info(99)
    assert info.reason == "smsbrana_unknown_error"
    assert "99" in info.text


INBOX = b"""<?xml version='1.0' encoding='utf-8'?>
<result>
 <inbox>
  <delivery_sms>
   <item><number>+420774884136</number><time>20091020T164508</time><message>test</message></item>
  </delivery_sms>
  <delivery_report>
   <item><idsms>377339</idsms><number>+420774884136</number><time>20091020T132528</time><status>1</status></item>
  </delivery_report>
 </inbox>
</result>"""


def test_the_specs_inbox_sample_is_parsed() -> None:
    box = p.parse_inbox(INBOX)
    assert box.err == 0
    assert box.incoming == [p.IncomingSms("+420774884136", "20091020T164508", "test")]
    assert box.reports == [p.DeliveryReport("377339", "+420774884136", "20091020T132528", 1)]


def test_empty_inbox() -> None:
    box = p.parse_inbox(
        b"<result><err>0</err><inbox><delivery_sms/><delivery_report/></inbox></result>"
    )
    assert box.incoming == [] and box.reports == []


def test_incoming_key_identifies_number_time_and_text() -> None:
    a = p.IncomingSms("+420774884136", "20091020T164508", "test")
    assert a.key == p.IncomingSms("+420774884136", "20091020T164508", "test").key
    assert a.key != p.IncomingSms("+420774884136", "20091020T164508", "test!").key
    assert len(a.key) <= 64


def test_service_times_are_read_as_prague() -> None:
    assert p.parse_time("20091020T164508") == dt.datetime(2009, 10, 20, 14, 45, 8, tzinfo=dt.UTC)
    assert p.parse_time("2025-03-14T09:30:15+01:00") == dt.datetime(
        2025, 3, 14, 8, 30, 15, tzinfo=dt.UTC
    )
    assert p.parse_time("yesterday") is None


@pytest.mark.parametrize(
    ("status", "state"),
    [
        (0, None),
        (1, MessageState.DELIVERED),
        (2, None),
        (3, MessageState.FAILED),
        (4, None),
        (5, MessageState.FAILED),
    ],
)
def test_report_statuses(status: int, state: MessageState | None) -> None:
    outcome = p.report_outcome(status)
    assert (outcome[0] if outcome else None) == state
