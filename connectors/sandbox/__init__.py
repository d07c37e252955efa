"""Faithful local simulators of the vendors' APIs over one generated organisation.

`org.py` generates the organisation lazily and deterministically from (seed, size)
(`structure`, `people`, `issue_*`, `pull_requests`, `deploy*`, `code_model` build its parts;
`mutations` edits it between syncs); `jira/` and `github/` serve it as Jira Cloud REST and
GitHub GraphQL/REST; `faults.py` injects latency, errors and rate limits from a scenario
file; `server.py`/`serve.py`/`http_app.py` put the simulators on a socket or an httpx
transport; `credentials.py` holds the demo's public credentials.
"""
