"""`pulse-console audit`: the audit trail — who (the PostgreSQL login) changed what, when.

Newest first; `--since/--until` bound the time (UTC), `--what` matches the action or the
target (`integrations`, `jira`), `--who` the login or the console's operator. Rows of
`--client` by default; `--all-clients` lists every client's, and those of none (a removed
client, a global setting). `--json` prints one object per line.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from pulse_console.commands import database as opener
from pulse_console.commands.arguments import utc_time

if TYPE_CHECKING:
    from pulse_console.config import Settings
    from pulse_console.services.audit import AuditEntry


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    audit = sub.add_parser("audit", parents=[common], help="who changed what, and when")
    audit.add_argument("--since", type=utc_time, help="from, inclusive (date or ISO time, UTC)")
    audit.add_argument("--until", type=utc_time, help="to, exclusive")
    audit.add_argument("--what", default="", help="text in the action or target")
    audit.add_argument("--who", default="", help="text in the login or operator")
    audit.add_argument("--all-clients", action="store_true", help="every client's rows")
    audit.add_argument("--limit", type=int, default=500, help="at most this many rows (500)")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.set_defaults(handler=run_audit)


def run_audit(args: argparse.Namespace, settings: Settings) -> int:
    from pulse_console.services import audit
    from pulse_console.services.roles import Action
    from storage.tenancy import require_client

    query = audit.AuditQuery(
        since=args.since,
        until=args.until,
        what=args.what,
        who=args.who,
        limit=max(args.limit, 1),
    )
    database = opener.open_for(settings, Action.READ)
    try:
        client = None if args.all_clients else settings.client
        if client is not None:
            with database.session() as session:
                require_client(session, client)
        entries = audit.search(database, client, query)
    finally:
        database.dispose()
    for entry in entries:
        print(json.dumps(entry.to_json()) if args.json else line(entry))
    return 0


def line(entry: AuditEntry) -> str:
    """One row as text: time, login, client, action, target, and what changed."""
    who = entry.login or "?"
    if entry.actor not in (who, ""):
        who = f"{who} ({entry.actor})"
    target = f" {entry.target}" if entry.target else ""
    return f"{entry.ts:%Y-%m-%d %H:%M:%S} {who} [{entry.client or '-'}] {entry.action}{target}" + (
        f"  {entry.summary()}" if entry.summary() else ""
    )
