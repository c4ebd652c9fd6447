"""SMSLib's JDBC settings (`sqlDriver`, `sqlURL`, `sqlUser`, `sqlPassword`) as a
SQLAlchemy URL with a pure-Python driver, pure:

    sqlalchemy_url("com.mysql.jdbc.Driver", "jdbc:mysql://db:3306/smslib", "u", "p")
    # -> mysql+pymysql://u:***@db:3306/smslib

A plain SQLAlchemy URL in `sqlURL` is taken as it is (user and password added when it
has none). Anything we cannot map raises SmslibUrlError saying what would work.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from agent.errors import AgentError

# JDBC sub-protocol -> SQLAlchemy dialect+driver (pure Python where one exists).
_DIALECTS = {
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "postgresql": "postgresql+pg8000",
    "sqlserver": "mssql+pytds",
    "oracle": "oracle+oracledb",
    "sqlite": "sqlite",
}

# Java driver classes SMSLib sites use -> the JDBC sub-protocol they speak.
DRIVER_CLASSES = {
    "com.mysql.jdbc.Driver": "mysql",
    "com.mysql.cj.jdbc.Driver": "mysql",
    "org.mariadb.jdbc.Driver": "mariadb",
    "org.postgresql.Driver": "postgresql",
    "com.microsoft.sqlserver.jdbc.SQLServerDriver": "sqlserver",
    "net.sourceforge.jtds.jdbc.Driver": "sqlserver",
    "oracle.jdbc.OracleDriver": "oracle",
    "oracle.jdbc.driver.OracleDriver": "oracle",
    "org.sqlite.JDBC": "sqlite",
    "org.apache.derby.jdbc.EmbeddedDriver": "derby",
    "org.apache.derby.jdbc.ClientDriver": "derby",
}

_FAMILY = {"mariadb": "mysql"}  # a MariaDB driver talks to MySQL URLs and back

# JDBC options that mean the same for the Python driver; others are dropped.
_KEEP_QUERY = {"mysql+pymysql": {"charset"}, "postgresql+pg8000": set()}


class SmslibUrlError(AgentError, ValueError):
    """`sqlDriver`/`sqlURL` cannot be used; the message names the key and a fix."""


def _jdbc_protocol(url: str) -> str:
    m = re.match(r"jdbc:([a-z0-9]+):", url)
    if not m:
        raise SmslibUrlError(f"sqlURL {url!r}: expected jdbc:<database>:… or a SQLAlchemy URL")
    return m.group(1)


def _check_driver(driver: str | None, protocol: str) -> None:
    if not driver:
        return
    expected = DRIVER_CLASSES.get(driver.strip())
    if expected is None:
        return  # an unknown class (a newer driver) is fine: the URL decides
    if _FAMILY.get(expected, expected) != _FAMILY.get(protocol, protocol):
        raise SmslibUrlError(
            f"sqlDriver {driver} is a {expected} driver but sqlURL is a {protocol} URL"
        )


def _host_port_db(rest: str, protocol: str) -> tuple[str | None, int | None, str | None, str]:
    """'//host:port/db?query' (most) or '//host:port;databaseName=db;…' (SQL Server)."""
    if protocol == "sqlserver":
        head, *props = rest.split(";")
        opts = dict(p.split("=", 1) for p in props if "=" in p)
        db = next((v for k, v in opts.items() if k.lower() in ("databasename", "database")), None)
        parts = urlsplit(head)
        return parts.hostname, parts.port, db, ""
    if protocol == "oracle":  # jdbc:oracle:thin:@host:1521/XE or @//host:1521/XE
        m = re.fullmatch(r"thin:@(?://)?([^:/]+)(?::(\d+))?[/:](\w+)", rest)
        if not m:
            raise SmslibUrlError(f"sqlURL: cannot read Oracle address {rest!r}")
        return m.group(1), int(m.group(2)) if m.group(2) else None, m.group(3), ""
    parts = urlsplit(rest)
    db = parts.path.lstrip("/") or None
    return parts.hostname, parts.port, db, parts.query


def sqlalchemy_url(
    driver: str | None, url: str, user: str | None = None, password: str | None = None
) -> URL:
    url = url.strip()
    if not url.startswith("jdbc:"):
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise SmslibUrlError(f"sqlURL {url!r} is neither JDBC nor SQLAlchemy: {exc}") from None
        if user and not parsed.username:
            parsed = parsed.set(username=user, password=password or None)
        return parsed
    protocol = _jdbc_protocol(url)
    _check_driver(driver, protocol)
    rest = url[len(f"jdbc:{protocol}:") :]
    if protocol == "derby":
        raise SmslibUrlError(
            "sqlURL: Derby (embedded Java database) has no Python driver; move the "
            "SMSLib tables to PostgreSQL, MariaDB/MySQL or SQLite"
        )
    name = _DIALECTS.get(protocol)
    if name is None:
        raise SmslibUrlError(
            f"sqlURL: no Python driver known for jdbc:{protocol}; give a SQLAlchemy URL"
        )
    if protocol == "sqlite":  # jdbc:sqlite:/path/file.db, jdbc:sqlite::memory:
        return URL.create("sqlite", database=None if rest in ("", ":memory:") else rest)
    host, port, database, query = _host_port_db(rest, protocol)
    keep = _KEEP_QUERY.get(name, set())
    options = {k: v for k, v in parse_qsl(query) if k in keep}
    if name == "mysql+pymysql":
        options.setdefault("charset", "utf8mb4")  # SMSLib's text is Unicode
    return URL.create(
        name,
        username=user or None,
        password=password or None,
        host=host,
        port=port,
        database=database,
        query=options,
    )
