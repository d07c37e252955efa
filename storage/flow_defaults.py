"""The default flow mapping proposed from each status's source category.

It lives in storage, not beside the operator's edits (`pulse_console.services.flow_mappings`)
or the resolution rule (`pulse_console.metrics.mapping_rules`), because the Jira sync (a
pipeline) proposes it after loading statuses and the layering allows `pipelines → storage`
but not `pipelines → metrics` or `pipelines → services`.

`new` → To Do, `indeterminate` → In Progress, `done` → Done (Jira's `statusCategory.key`).
The proposal only ever adds: it never changes or re-creates a mapping an operator made,
changed or switched off.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

DEFAULT_STEPS = (("To Do", "todo", 0), ("In Progress", "in_progress", 1), ("Done", "done", 2))
SOURCE_CATEGORY = {"new": "todo", "indeterminate": "in_progress", "done": "done"}


@dataclass(frozen=True)
class Proposal:
    """What `propose_default_mappings` added."""

    steps_created: tuple[str, ...]
    mappings_created: tuple[tuple[str, str], ...]  # (status name, step name)


def propose_default_mappings(conn: Connection, client_id: int) -> Proposal:
    """Map every known status without a mapping to the default step of its category.

    Called by the Jira sync after its first load (and safe to call after every sync): a
    category with no active step gets the default one (To Do / In Progress / Done); a status
    name that already has a typeless mapping — active or not, to whatever step — is left
    alone. Statuses with the same name but different categories across integrations take
    the most advanced category (done > in progress > to do), deterministically.
    """
    created_steps: list[str] = []
    for name, category, position in DEFAULT_STEPS:
        exists = conn.execute(
            text("SELECT 1 FROM flow_steps WHERE client_id = :c AND category = :cat AND active"),
            {"c": client_id, "cat": category},
        ).first()
        if exists is None:
            conn.execute(
                text(
                    "INSERT INTO flow_steps (client_id, name, category, position)"
                    " VALUES (:c, :n, :cat, :p) ON CONFLICT (client_id, name)"
                    " DO UPDATE SET active = true, category = EXCLUDED.category"
                ),
                {"c": client_id, "n": name, "cat": category, "p": position},
            )
            created_steps.append(name)
    rows = conn.execute(
        text(
            """
            WITH step_for AS (
                SELECT DISTINCT ON (category) category, id, name FROM flow_steps
                WHERE client_id = :c AND active ORDER BY category, position, id
            ), wanted AS (
                SELECT DISTINCT ON (lower(s.name)) s.name, CASE s.category
                    WHEN 'new' THEN 'todo' WHEN 'indeterminate' THEN 'in_progress'
                    WHEN 'done' THEN 'done' END AS category
                FROM statuses s
                WHERE s.client_id = :c AND s.category IN ('new', 'indeterminate', 'done')
                ORDER BY lower(s.name),
                    array_position(ARRAY['done', 'indeterminate', 'new'], s.category), s.name
            )
            INSERT INTO status_mappings (client_id, status_name, issue_type, flow_step_id)
            SELECT :c, w.name, NULL, f.id FROM wanted w JOIN step_for f USING (category)
            ORDER BY lower(w.name)
            ON CONFLICT (client_id, lower(status_name), lower(coalesce(issue_type, '')))
            DO NOTHING
            RETURNING status_name, flow_step_id
            """
        ),
        {"c": client_id},
    ).all()
    names: dict[int, str] = {
        int(r[0]): str(r[1])
        for r in conn.execute(
            text("SELECT id, name FROM flow_steps WHERE client_id = :c"), {"c": client_id}
        )
    }
    return Proposal(
        steps_created=tuple(created_steps),
        mappings_created=tuple(sorted((r[0], names[r[1]]) for r in rows)),
    )
