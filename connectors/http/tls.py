"""One TLS context per process, shared by every HTTP client.

Building one loads and parses the CA bundle: ~40 ms of CPU each time (measured here), which
httpx spends again for every client it makes with its default ``verify=True``. A context
holds settings and certificates for any number of connections (Python's `ssl` module docs,
"SSL Contexts"), so each process makes it once, with httpx's own defaults
(`httpx.create_ssl_context`: certifi's bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when
set, read at the first client rather than at each).
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's TLS context for verifying servers (made at the first call)."""
    return httpx.create_ssl_context()
