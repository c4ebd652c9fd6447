"""JDBC settings of an SMSLib site → SQLAlchemy URLs with pure-Python drivers."""

from __future__ import annotations

import pytest

from agent.spool.smslib_url import SmslibUrlError, sqlalchemy_url


@pytest.mark.parametrize(
    ("driver", "jdbc", "expected"),
    [
        (
            "com.mysql.jdbc.Driver",
            "jdbc:mysql://db.local:3306/smslib?autoReconnect=true",
            "mysql+pymysql://smslib:***@db.local:3306/smslib?charset=utf8mb4",
        ),
        (
            "org.mariadb.jdbc.Driver",
            "jdbc:mariadb://db.local/smslib",
            "mysql+pymysql://smslib:***@db.local/smslib?charset=utf8mb4",
        ),
        (
            "org.postgresql.Driver",
            "jdbc:postgresql://pg:5432/sms",
            "postgresql+pg8000://smslib:***@pg:5432/sms",
        ),
        (
            "com.microsoft.sqlserver.jdbc.SQLServerDriver",
            "jdbc:sqlserver://mssql:1433;DatabaseName=sms;encrypt=false",
            "mssql+pytds://smslib:***@mssql:1433/sms",
        ),
        (
            "oracle.jdbc.OracleDriver",
            "jdbc:oracle:thin:@ora:1521/XE",
            "oracle+oracledb://smslib:***@ora:1521/XE",
        ),
    ],
)
def test_jdbc_urls_map_to_pure_python_drivers(driver: str, jdbc: str, expected: str) -> None:
    url = sqlalchemy_url(driver, jdbc, "smslib", "s3cret")
    assert url.render_as_string(hide_password=True) == expected
    assert url.password == "s3cret"


def test_password_with_special_characters_survives() -> None:
    url = sqlalchemy_url(None, "jdbc:postgresql://pg/sms", "u", "p@ss:w/rd?")
    assert url.password == "p@ss:w/rd?"
    assert url.host == "pg"


def test_sqlite_file_and_memory() -> None:
    assert sqlalchemy_url("org.sqlite.JDBC", "jdbc:sqlite:/var/lib/sms.db").database == (
        "/var/lib/sms.db"
    )
    assert sqlalchemy_url(None, "jdbc:sqlite::memory:").database is None


def test_plain_sqlalchemy_url_is_used_as_is_with_user_added() -> None:
    url = sqlalchemy_url(None, "postgresql+pg8000://pg/sms", "u", "p")
    assert (url.drivername, url.username, url.password) == ("postgresql+pg8000", "u", "p")
    kept = sqlalchemy_url(None, "mysql+pymysql://a:b@h/db", "u", "p")
    assert (kept.username, kept.password) == ("a", "b")


def test_driver_class_that_contradicts_the_url_is_an_error() -> None:
    with pytest.raises(SmslibUrlError, match=r"org\.postgresql\.Driver is a postgresql driver"):
        sqlalchemy_url("org.postgresql.Driver", "jdbc:mysql://h/db")


def test_unknown_driver_class_is_accepted_the_url_decides() -> None:
    url = sqlalchemy_url("com.example.NewDriver", "jdbc:mysql://h/db")
    assert url.drivername == "mysql+pymysql"


@pytest.mark.parametrize(
    ("jdbc", "match"),
    [
        ("jdbc:derby:smslib;create=true", "Derby"),
        ("jdbc:db2://h:50000/db", "no Python driver known for jdbc:db2"),
        ("smslib on the server", "neither JDBC nor SQLAlchemy"),
    ],
)
def test_urls_we_cannot_use_say_why(jdbc: str, match: str) -> None:
    with pytest.raises(SmslibUrlError, match=match):
        sqlalchemy_url(None, jdbc)
