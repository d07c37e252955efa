"""Releases and goals as metric scopes, across sources, and a release's idea-to-done time.

This module is the one scoping rule every metric applies (flow, DORA, the PR cycle):

- **Items.** A release holds the work items linked to it (``work_item_releases``: Aha!
  features and epics) and the items those link to in other sources (``work_item_links`` of
  kind ``jira`` or ``azure_devops``, the linked key in ``url``), so the flow of a release's
  Jira issues can be measured. A goal (or initiative) holds its items (``work_item_goals``)
  the same way. With both a release and a goal, an item must be in both.
- **Pull requests.** The PRs those items link to (``work_item_links`` naming a repository and
  a PR number: Jira dev-status, Azure DevOps artifact links, keys found in PR titles).
- **Deployments.** The successful production deployments that shipped one of those PRs
  (which deployment shipped a PR is ``delivery_chain``'s rule, computed over every
  deployment of the repository, so scoping never changes it).
- **Incidents.** Those attributed to one of those deployments (attribution is ``dora``'s
  rule and never depends on the scope, as with a repository filter).

Releases and goals are named by their reference number (``releases.key``, ``goals.key``);
``unknown_plan`` says when the client has no release or goal of that number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

_LINKED = """
    SELECT x.work_item_id AS id FROM direct x
    UNION
    SELECT j.id FROM direct x
    JOIN work_item_links l ON l.client_id = :client_id AND l.work_item_id = x.work_item_id
                          AND l.kind IN ('jira', 'azure_devops')
    JOIN work_items j ON j.client_id = :client_id AND j.source = l.kind AND j.key = l.url
"""


def _members(link_table: str, target: str, column: str, param: str) -> str:
    return f"""
    WITH direct AS (
        SELECT x.work_item_id FROM {link_table} x
        JOIN {target} p ON p.id = x.{column}
        WHERE p.client_id = :client_id AND p.key = :{param}
    )
    {_LINKED}"""


RELEASE_ITEMS_SQL = _members("work_item_releases", "releases", "release_id", "release")
"""Ids of the work items in release ``:release`` (reference number), across sources."""

GOAL_ITEMS_SQL = _members("work_item_goals", "goals", "goal_id", "goal")
"""Ids of the work items serving goal or initiative ``:goal``, across sources."""


def scope_sql(alias: str) -> str:
    """``AND …`` conditions keeping ``alias`` (a work_items row) to ``:release``/``:goal``."""
    return (
        f"AND (CAST(:release AS text) IS NULL OR {alias}.id IN ({RELEASE_ITEMS_SQL}))\n"
        f"AND (CAST(:goal AS text) IS NULL OR {alias}.id IN ({GOAL_ITEMS_SQL}))"
    )


# True when a release or a goal narrows the metrics (else every scope below is a no-op).
_PLANNED = "(CAST(:release AS text) IS NOT NULL OR CAST(:goal AS text) IS NOT NULL)"

_PLAN_PRS_SQL = f"""
    SELECT p.id FROM work_items w
    JOIN work_item_links l ON l.client_id = :client_id AND l.work_item_id = w.id
                          AND l.pull_request_number IS NOT NULL
    JOIN repositories r ON r.client_id = :client_id AND lower(r.full_name) = lower(l.repository)
    JOIN pull_requests p ON p.client_id = :client_id AND p.repository_id = r.id
                        AND p.number = l.pull_request_number
    WHERE w.client_id = :client_id AND w.active
    {scope_sql("w")}
"""


def pr_scope_sql(alias: str) -> str:
    """``AND …`` keeping ``alias`` (a pull_requests row) to the PRs the scope's items link to."""
    return f"AND (NOT {_PLANNED} OR {alias}.id IN ({_PLAN_PRS_SQL}))"


def deploy_scope_sql(alias: str, shipped: str) -> str:
    """``AND …`` keeping ``alias`` (a deployment) to those that shipped one of the scope's
    PRs; ``shipped`` is a relation of (``deployment_id``) over PRs already scoped."""
    return f"AND (NOT {_PLANNED} OR {alias}.id IN (SELECT deployment_id FROM {shipped}))"


def incident_scope_sql(deployment_id: str, deploys: str) -> str:
    """``AND …`` keeping an incident attributed to ``deployment_id`` to the scope: attributed
    to one of ``deploys`` (the scoped deployments, a relation with ``id``)."""
    return f"AND (NOT {_PLANNED} OR {deployment_id} IN (SELECT id FROM {deploys}))"


def unknown_plan(conn: Connection, client_id: int, release: str | None, goal: str | None) -> str:
    """What the client lacks of ``release`` and ``goal`` (``"release 'X'"``), else ``""``."""
    missing = []
    for table, word, key in (("releases", "release", release), ("goals", "goal", goal)):
        if key is None:
            continue
        found = conn.execute(
            text(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE client_id = :c AND key = :k)"),
            {"c": client_id, "k": key},
        ).scalar_one()
        if not found:
            missing.append(f"{word} {key!r}")
    return " or ".join(missing)


@dataclass(frozen=True)
class Plan:
    """A release or goal (initiative) the metrics can be scoped to."""

    kind: str  # release | goal | initiative
    key: str
    name: str | None
    project_key: str | None


def plans(conn: Connection, client_id: int) -> list[Plan]:
    """The client's active releases, then its goals and initiatives, each by key."""
    rows = conn.execute(
        text(
            "SELECT 'release', key, name, project_key, 0 FROM releases"
            " WHERE client_id = :c AND active AND key IS NOT NULL"
            " UNION SELECT kind, key, name, project_key, 1 FROM goals"
            " WHERE client_id = :c AND active AND key IS NOT NULL"
            " ORDER BY 5, 2, 1"
        ),
        {"c": client_id},
    ).all()
    return [Plan(str(r[0]), str(r[1]), r[2], r[3]) for r in rows]


@dataclass(frozen=True)
class ReleaseLeadTime:
    """From the release's first idea to the moment its last linked issue was done.

    ``all_done_at`` is None while any linked Jira/Azure DevOps item is unresolved (or none
    is linked); ``hours`` then too.
    """

    release: str
    idea_created_at: datetime | None
    all_done_at: datetime | None
    hours: float | None
    linked_items: int
    open_items: int


_LEAD_TIME_SQL = f"""
WITH members AS ({RELEASE_ITEMS_SQL}),
ideas AS (
    -- Ideas promoted to one of the release's Aha! items (custom_fields->>'feature_id').
    SELECT min(i.created_at) AS created_at
    FROM work_items i
    JOIN work_items f ON f.client_id = i.client_id AND f.integration_id = i.integration_id
                     AND f.external_id = i.custom_fields ->> 'feature_id'
    WHERE i.client_id = :client_id AND i.active AND i.type = 'Idea'
      AND f.id IN (SELECT id FROM members)
),
delivered AS (
    SELECT count(*) AS linked, count(*) FILTER (WHERE w.resolved_at IS NULL) AS open,
           max(w.resolved_at) AS last_done
    FROM work_items w
    WHERE w.id IN (SELECT id FROM members) AND w.source <> 'aha' AND w.active
)
SELECT ideas.created_at, delivered.linked, delivered.open,
       CASE WHEN delivered.open = 0 AND delivered.linked > 0 THEN delivered.last_done END
FROM ideas, delivered
"""


def release_lead_time(conn: Connection, client_id: int, release: str) -> ReleaseLeadTime:
    """Idea created → all the release's linked Jira/Azure DevOps items done."""
    row = conn.execute(text(_LEAD_TIME_SQL), {"client_id": client_id, "release": release}).one()
    created, linked, open_items, done = row
    hours = None
    if created is not None and done is not None:
        hours = round((done - created).total_seconds() / 3600, 2)
    return ReleaseLeadTime(release, created, done, hours, int(linked), int(open_items))
