"""Which endpoint URLs a webhook may have: http or https, with a host, and not this
server itself (its events would come back to it for ever)."""

from __future__ import annotations

from urllib.parse import urlsplit

LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::", "[::1]"})


def url_error(url: str, own: set[tuple[str, int]]) -> str | None:
    """Why `url` cannot be a webhook endpoint, or None. `own`: (host, port) pairs this
    server is reached at (its listening address, the Host of the request)."""
    if len(url) > 2000:
        return "url: longer than 2000 characters"
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        return f"url: {url!r} is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        shown = parts.scheme or "none"
        return f"url: scheme {shown!r} is not allowed; use http:// or https://"
    host = (parts.hostname or "").lower()
    if not host:
        return f"url: {url!r} has no host"
    port = port or (443 if parts.scheme == "https" else 80)
    own_ports = {p for _, p in own}
    local = {h.lower() for h, _ in own} | LOCAL_NAMES
    if (host, port) in own or (host in local and port in own_ports):
        return f"url: {host}:{port} is this server itself; its events would loop back to it"
    return None
