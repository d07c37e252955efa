"""What a person can ask for, one module per area; the console and the CLI call these.

Each function takes a `storage.db.Database` (or plain paths) and returns dataclasses, so the
screens render answers and never run SQL or HTTP themselves. `client_services.ClientServices`
binds them all once to (database, client, operator): that object is what the console holds.

Areas: `integrations` (add, test, save), `flow_mappings` (steps and mappings), `logs` and
`log_search` (log records), `log_files` (files in the log directory), `metrics` (what the
Metrics screen shows), `health` and `connectivity` (is everything there), `settings`
(run-time settings edited in the console), `audit` (who changed what), `rate_budget`
(an API budget in words), `roles` (the role rule: which product role each action needs,
asked by the console, the CLI and the API), `identity` (who is connected) and `operators`
(PostgreSQL logins, their roles and clients). Job controls are the engine's
(`engine.service.EngineService`).
"""
