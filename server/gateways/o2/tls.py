"""The TLS context for O2: the client certificate from the account's PKCS#12 file, and
the CA to trust for O2's own server certificate.

Python's ssl module loads a key only from a file. The key is never written unencrypted:
it is re-encrypted under a random one-time password that lives only in this process, and
written to an anonymous in-memory file (memfd, Linux) that is closed right after loading.
Where memfd is missing, a 0600 temporary file is used and deleted at once; it too holds
only the encrypted key.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12


class CertificateError(Exception):
    """The account's certificate cannot be used; the text says what to fix."""


@contextlib.contextmanager
def _memory_file(data: bytes) -> Iterator[str]:
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("smsbridge-o2", os.MFD_CLOEXEC)
        try:
            os.write(fd, data)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    handle, path = tempfile.mkstemp(prefix="smsbridge-o2-")  # created 0600
    try:
        os.write(handle, data)
        os.close(handle)
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)


def client_context(
    p12: bytes,
    password: str,
    *,
    ca_file: str | None = None,
    now: dt.datetime | None = None,
) -> ssl.SSLContext:
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(p12, password.encode() or None)
    except ValueError:
        raise CertificateError(
            "the O2 certificate could not be opened: wrong 'certPasswd', or 'cert' is not a "
            "PKCS#12 (.p12/.pfx) file"
        ) from None
    if key is None or cert is None:
        raise CertificateError("the O2 PKCS#12 file must hold the private key and its certificate")
    moment = now or dt.datetime.now(dt.UTC)
    if cert.not_valid_after_utc < moment:
        raise CertificateError(
            f"the O2 client certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}: "
            "get a new one from O2"
        )
    one_time = secrets.token_hex(32).encode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(one_time),
    )
    chain = cert.public_bytes(serialization.Encoding.PEM) + b"".join(
        c.public_bytes(serialization.Encoding.PEM) for c in extra or ()
    )
    try:
        # With 'ca', trust that bundle only (O2's own CA), else the system's CAs.
        context = ssl.create_default_context(cafile=ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateError(f"'ca' {ca_file}: cannot be read as a PEM bundle ({exc})") from None
    # TLS 1.2 at most: there the server checks our certificate inside the handshake, so a
    # refused certificate is a handshake error naming the cause. Under TLS 1.3 it arrives
    # after the request, often as a bare connection reset that reads like an outage.
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with _memory_file(chain) as chain_path, _memory_file(key_pem) as key_path:
        context.load_cert_chain(chain_path, key_path, password=one_time)
    return context


def read_cert_file(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CertificateError(f"'cert' {path}: {exc.strerror or exc}") from None
