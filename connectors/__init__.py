"""Talking to the outside world; knows nothing of the database or the application.

- `http/` — the one httpx stack every client uses: auth, timeouts, retry/backoff, rate-limit
  headers and budgets, cancellation checked before every request, counters and events.
- `secret.py` — `Secret` (never printed) and `redact`, the one redaction step for any text
  that came from a server.
- `errors.py` — typed errors with an operator-facing title and message.
- `base.py` — the `Connector` protocol and `ConnectionCheck` every source's client answers.
- `validation.py` — payload validation shared by every client: a page's items that do not
  validate are set aside with their raw JSON (`Rejected`), never dropped.
- `jira/`, `github/` — the typed clients (pydantic models of the real payloads).
- `sandbox/` — faithful local simulators of each API over one generated organisation
  (the demo, the tests and the benchmarks use them).
"""
