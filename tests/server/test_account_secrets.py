"""Credentials inside ordinary keys are secrets (issue #19, item 6): a URL's password and
credential-like query parameters are stored encrypted and shown as (set); the text that
comes back with (set) keeps them, even when the rest of the URL was edited. Users
without the admin right see an account's name, gateway and phone, not its configuration."""

from __future__ import annotations

import pytest

from server.accounts.config import AccountConfigError, parse_config
from sms.model import GatewayType

from .conftest import Api

URL = "url = https://joe:s3cret@gw.example/send?to=[PHONE]&text=[MSG]&apikey=k3y&from=crm"
SQL = (
    "sqlDriver = com.mysql.jdbc.Driver\nsqlURL = jdbc:mysql://sms:dbpw@db.example/sms"
    "?password=qpw&useSSL=true\nsqlUser = sms\nsqlPassword = pw\ngatewayId = g1\nagent = a"
)


def test_a_urls_credentials_are_shown_as_set_and_kept_whole_among_the_secrets() -> None:
    checked = parse_config(GatewayType.URL, URL)
    assert checked.text == (
        "url = https://joe:(set)@gw.example/send?to=[PHONE]&text=[MSG]&apikey=(set)&from=crm"
    )
    assert checked.secrets == {"url": URL.removeprefix("url = ")}
    # Sent back edited (another path), the (set) parts come from what is stored.
    edited = checked.text.replace("/send", "/v2/send")
    again = parse_config(GatewayType.URL, edited, stored_secrets=checked.secrets)
    assert again.secrets["url"] == URL.removeprefix("url = ").replace("/send", "/v2/send")
    with pytest.raises(AccountConfigError, match="says \\(set\\) for the password in the URL"):
        parse_config(GatewayType.URL, checked.text)


def test_an_sql_url_with_passwords_is_a_secret_too() -> None:
    checked = parse_config(GatewayType.SMSLIB, SQL, agents={"a"})
    assert "sqlURL = jdbc:mysql://sms:(set)@db.example/sms?password=(set)&useSSL=true" in (
        checked.text
    )
    assert "dbpw" not in checked.text and "qpw" not in checked.text
    assert checked.secrets["sqlURL"].endswith("sms:dbpw@db.example/sms?password=qpw&useSSL=true")


def test_a_bad_url_is_refused_without_repeating_its_password() -> None:
    with pytest.raises(AccountConfigError) as refused:
        parse_config(GatewayType.URL, "url = ftp://joe:s3cret@gw.example/?to=[PHONE]&m=[MSG]")
    assert "s3cret" not in str(refused.value)


async def test_only_admins_see_an_accounts_configuration_and_never_its_secrets(api: Api) -> None:
    account = await api.account(name="Web", config=URL)
    sender = await api.user("sender", "send")
    listed = (await api.get("/api/accounts", token=sender)).json()
    (mine,) = [a for a in listed if a["name"] == "Web"]
    assert all(a["config"] == "" for a in listed)
    assert mine["name"] == "Web" and mine["gateway"] == "url" and mine["config"] == ""
    r = await api.get(f"/api/accounts/{account['id']}", token=sender)
    assert r.json()["config"] == ""
    admin = (await api.get(f"/api/accounts/{account['id']}")).json()
    assert "apikey=(set)" in admin["config"] and "s3cret" not in admin["config"]
    # The admin's unchanged text saved back keeps the secrets.
    r = await api.patch(f"/api/accounts/{account['id']}", json={"config": admin["config"]})
    assert r.status_code == 200, r.text
