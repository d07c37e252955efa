"""Imported by the window processes' fork server only: what every window process would
otherwise make for itself, made once there and inherited by each fork.

- the process's TLS context (connectors/http/tls.py: ~40 ms of CPU per process);
- httpx's transport modules (httpcore), which httpx imports only when a client makes its
  first transport (~0.2 s of CPU per process under load, measured with py-spy).
"""

from __future__ import annotations

import httpx

from connectors.http.tls import tls_context

httpx.HTTPTransport(verify=tls_context()).close()
