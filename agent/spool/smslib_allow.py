"""Is a pushed `sqlURL` one the agent's allow-list permits? Pure, apart from resolving an
SQLite file's path.

The URL is parsed exactly as the SMSLib line will parse it (agent/spool/smslib_url.py),
and what the driver will connect to is compared, never the text as written:

- a server database (PostgreSQL, MySQL/MariaDB, SQL Server, Oracle): its family, host,
  port (the family's default when absent) and database name against an allow entry
  written as a URL, `postgresql://db.local/smslib`, `jdbc:mysql://10.0.0.5:3306/*`
  (host, port and database may be globs; a user part `*@` is ignored);
- an SQLite database: its file's path, `..` refused and symlinks resolved, against the
  path patterns (`/var/lib/smslib/**`), like any directory;
- query parameters that could send the driver elsewhere (`host`, `port`, `unix_socket`,
  `hostaddr`, ...) are refused; a SQLAlchemy URL may carry none but `charset`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from urllib.parse import parse_qsl

from .smslib_url import SmslibUrlError, sqlalchemy_url

DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306, "mssql": 1433, "oracle": 1521}
_FAMILIES = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mssql": "mssql",
    "sqlserver": "mssql",
    "oracle": "oracle",
    "sqlite": "sqlite",
}
# Passed to the driver as connection arguments: only what cannot redirect it.
SAFE_QUERY = frozenset({"charset"})
# In a JDBC URL the line drops options it does not map, but one that names another
# server is refused all the same: the technician who wrote it meant that server.
_REDIRECTING = re.compile(
    r"host|hostaddr|hostname|port|portnumber|server|servername|socket|unix_socket|"
    r"localsocket|service|passfile|read_default_file|read_default_group|uri|vfs|mode|"
    r"init_command|sslmode",
    re.IGNORECASE,
)
_PATTERN = re.compile(
    r"(?:jdbc:)?(?P<scheme>[a-z0-9+]+)://(?:[^@/]*@)?(?P<host>[^/:]*)(?::(?P<port>[^/]*))?"
    r"(?:/(?P<db>.*))?\Z",
    re.IGNORECASE,
)

PathCheck = Callable[[str, str], str | None]


class DbPattern:
    def __init__(self, family: str, host: str, port: str | None, db: str) -> None:
        self.family, self.host, self.port, self.db = family, host.lower(), port, db

    def matches(self, family: str, host: str, port: int, db: str) -> bool:
        if family != self.family or not _glob(self.host).match(host.lower()):
            return False
        want = self.port if self.port else str(DEFAULT_PORTS.get(family, ""))
        return bool(_glob(want).match(str(port))) and bool(_glob(self.db).match(db))


@lru_cache(maxsize=256)
def _glob(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in text.split("*")) + r"\Z", re.DOTALL)


@lru_cache(maxsize=256)
def db_pattern(entry: str) -> DbPattern | None:
    """An allow entry read as a database pattern; None for a path or anything else."""
    m = _PATTERN.match(entry)
    if m is None:
        return None
    family = _FAMILIES.get(m.group("scheme").lower().split("+")[0])
    if family is None or family == "sqlite":
        return None
    return DbPattern(family, m.group("host") or "localhost", m.group("port"), m.group("db") or "")


def _query_keys(url: str) -> list[str]:
    """The option names written in a JDBC URL (`?a=b&c=d`, SQL Server's `;a=b`)."""
    rest = url.split("?", 1)[1] if "?" in url else ""
    keys = [k for k, _ in parse_qsl(rest, keep_blank_values=True)]
    if url.startswith("jdbc:sqlserver:"):
        keys += [p.split("=", 1)[0] for p in url.split(";")[1:] if "=" in p]
    return keys


def _without_userinfo(text: str) -> str:
    # The reason goes back to the server and into the log: no user or password in it.
    return re.sub(r"//[^/@\s]*@", "//***@", text)


def database_refusal(
    driver: str | None,
    url: str,
    user: str | None,
    password: str | None,
    patterns: Iterable[str],
    *,
    path_check: PathCheck,
) -> str | None:
    """Why `sqlURL` may not be used here, or None when an allow entry permits it."""
    if re.search(r"[\x00-\x1f\x7f]", url):
        return "'sqlURL' contains a control character"
    if url != url.strip():
        return "'sqlURL' has spaces around it"
    try:
        parsed = sqlalchemy_url(driver, url, user, password)
    except (SmslibUrlError, ValueError) as exc:
        return f"'sqlURL' cannot be read: {_without_userinfo(str(exc))}"
    if url.startswith("jdbc:"):
        bad = [k for k in _query_keys(url) if _REDIRECTING.fullmatch(k.strip())]
    else:
        bad = [k for k in parsed.query if k not in SAFE_QUERY]
    if bad:
        names = ", ".join(sorted(set(bad)))
        return f"'sqlURL' option {names} is not allowed (it can redirect the connection)"
    family = _FAMILIES.get(parsed.get_backend_name())
    if family is None:
        return f"'sqlURL': no allow rule can name a {parsed.get_backend_name()} database"
    if family == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            return "'sqlURL' must name an SQLite database file"
        return path_check("sqlURL", parsed.database)
    host = parsed.host or "localhost"
    if "/" in host:
        return f"'sqlURL' host {host!r} is a socket path, not a host"
    port = parsed.port if parsed.port is not None else DEFAULT_PORTS[family]
    db = parsed.database or ""
    for entry in patterns:
        pattern = db_pattern(entry)
        if pattern is not None and pattern.matches(family, host, port, db):
            return None
    where = f"{family} database {db!r} on {host}:{port}"
    return f"'sqlURL' = {where} is outside this agent's allow-list"
