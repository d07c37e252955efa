"""The delivery chain DORA and the PR cycle breakdown share: the repositories in scope, the
client's successful production deployments, which deployment shipped each merged PR, and
each PR's time breakdown (`pr_times`), as CTE parts (`sql.ctes` renders them).

**Which deployment shipped a PR.** Successful deployments to a production environment
(`settings.production_environments`) of the PR's repository form a timeline (by start,
`created_at`). A deployment ships the PRs merged after the previous successful production
deployment of that repository and environment started, up to its own start: each merged PR
belongs to exactly one deployment, the first one started at or after its merge. The first
deployment of a repository has no previous one; it claims only PRs merged within
`settings.first_deployment_window_days` before it (0 = none, DevLake's behaviour). So the
first deployment never claims every PR ever merged (apache/incubator-devlake#7193).

DevLake decides the same question from the commit graph (the commits between the two
deployments' SHAs, its `commits_diffs` table); our schema keeps no commit graph, so the merge
time stands in for "the merge commit is an ancestor of the deployed SHA", which holds for
every PR merged into the deployed branch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.plans import deploy_scope_sql, pr_scope_sql
from pulse_console.metrics.settings import MetricsSettings
from pulse_console.metrics.sql import Parts, hours

# Repositories in scope and the client's successful production deployments with their
# previous one. Each part is (CTE name, body); `ctes` renders them (see `sql.ctes`).
SCOPE_PARTS: Parts = (
    (
        "project_repos",
        """
    SELECT p.key AS project_key, r.id AS repository_id
    FROM (SELECT e.key, jsonb_array_elements_text(e.value) AS full_name
          FROM jsonb_each(CAST(:project_repos_json AS jsonb)) e) p
    JOIN repositories r ON r.client_id = :client_id AND lower(r.full_name) = lower(p.full_name)
    UNION
    SELECT DISTINCT w.project_key, r.id
    FROM work_item_links l
    JOIN work_items w ON w.id = l.work_item_id AND w.active AND w.project_key IS NOT NULL
    JOIN repositories r ON r.client_id = :client_id AND lower(r.full_name) = lower(l.repository)
    WHERE l.client_id = :client_id AND l.repository IS NOT NULL
""",
    ),
    (
        "scope_repos",
        """
    SELECT r.id, r.full_name FROM repositories r
    WHERE r.client_id = :client_id AND r.active
      AND (CAST(:repository AS text) IS NULL OR lower(r.full_name) = lower(:repository))
      AND (CAST(:project AS text) IS NULL OR r.id IN (
          SELECT repository_id FROM project_repos WHERE project_key = :project))
""",
    ),
    # `gseq` numbers the deployments by (repository, start): unique across the client and
    # increasing with the start within a repository, so "the first deployment at or after
    # a merge" is a single-key join (a (repository, per-repository number) key let the
    # planner pick a merge join that compared millions of row pairs). The stream carries
    # each PR's merge time for the same reason: no join back to `prs`. The stored
    # `status_key`/`environment_key` (upper/lower, migration 0018) are compared with a plain
    # `=`, which PostgreSQL may take as an index condition under row-level security too.
    (
        "client_deploys",
        """
    SELECT d.id, d.repository_id, d.external_id, d.environment, d.sha, d.created_at,
           coalesce(d.finished_at, d.created_at) AS finished_at,
           lag(d.id) OVER env AS prev_id, lag(d.created_at) OVER env AS prev_created_at,
           row_number() OVER (ORDER BY d.repository_id, d.created_at, d.id) AS gseq
    FROM deployments d
    JOIN repositories r ON r.id = d.repository_id AND r.active
    WHERE d.client_id = :client_id AND d.status_key = 'SUCCESS'
      AND d.environment_key = ANY(CAST(:environments AS text[]))
      AND d.created_at IS NOT NULL
    WINDOW env AS (PARTITION BY d.repository_id, d.environment_key
                   ORDER BY d.created_at, d.id)
""",
    ),
    (
        "scope_deploys",
        """
    SELECT d.* FROM client_deploys d WHERE d.repository_id IN (SELECT id FROM scope_repos)
""",
    ),
)

# The deployment that shipped each merged PR in scope (with a release or goal, only its PRs:
# `plans`), the deployments that count, and the breakdown of each PR merged
# or shipped in the period (`pr_times`, which therefore depends on the period).
PR_PARTS: Parts = (
    (
        "prs",
        f"""
    SELECT p.id, p.repository_id, p.number, p.title, p.author, p.created_at, p.merged_at
    FROM pull_requests p
    WHERE p.client_id = :client_id AND p.active AND p.merged_at IS NOT NULL
      AND p.repository_id IN (SELECT id FROM scope_repos)
      {pr_scope_sql("p")}
""",
    ),
    (
        "pr_stream",
        """
    SELECT repository_id, merged_at AS t, id AS pr_id, NULL::bigint AS gseq FROM prs
    UNION ALL
    -- A repository none of the PRs is in ships none of them: its deployments are left out
    -- (with a release or goal, that is most of them).
    SELECT repository_id, created_at, NULL, gseq FROM scope_deploys
    WHERE repository_id IN (SELECT repository_id FROM prs)
""",
    ),
    (
        "pr_next",
        """
    SELECT pr_id, t AS merged_at, min(gseq) OVER (PARTITION BY repository_id ORDER BY t DESC
                                  RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS gseq
    FROM pr_stream
""",
    ),
    (
        "shipped",
        """
    SELECT n.pr_id, d.id AS deployment_id, d.finished_at AS deployed_at
    FROM pr_next n
    JOIN scope_deploys d ON d.gseq = n.gseq
    WHERE n.pr_id IS NOT NULL
      AND (d.prev_id IS NOT NULL
           OR n.merged_at > d.created_at - :first_window_hours * interval '1 hour')
""",
    ),
    # The deployments a DORA figure counts: those in scope, and with a release or goal
    # (`plans`) only those that shipped one of its PRs. `shipped` is computed over every
    # deployment in scope, so which deployment shipped a PR never depends on the plan.
    (
        "plan_deploys",
        f"""
    SELECT d.* FROM scope_deploys d WHERE true {deploy_scope_sql("d", "shipped")}
""",
    ),
    # Only PRs merged or shipped in the period get their commits, reviews and comments
    # read: every statement over `pr_times` asks about one of the two.
    (
        "period_prs",
        """
    SELECT p.*, s.deployment_id, s.deployed_at FROM prs p LEFT JOIN shipped s ON s.pr_id = p.id
    WHERE (p.merged_at >= :since AND p.merged_at < :until)
       OR (s.deployed_at >= :since AND s.deployed_at < :until)
""",
    ),
    (
        "first_commit",
        """
    SELECT c.pull_request_id, min(c.authored_at) AS at
    FROM pr_commits c JOIN period_prs p ON p.id = c.pull_request_id GROUP BY 1
""",
    ),
    (
        "first_review",
        """
    SELECT pull_request_id, min(at) AS at FROM (
        SELECT r.pull_request_id, r.submitted_at AS at
        FROM pr_reviews r JOIN period_prs p ON p.id = r.pull_request_id
        WHERE r.author IS DISTINCT FROM p.author AND r.submitted_at IS NOT NULL
        UNION ALL
        SELECT c.pull_request_id, c.created_at
        FROM pr_comments c JOIN period_prs p ON p.id = c.pull_request_id
        WHERE c.author IS DISTINCT FROM p.author AND c.created_at IS NOT NULL
    ) x GROUP BY 1
""",
    ),
    (
        "pr_times",
        f"""
    SELECT p.id, p.repository_id, p.number, p.title, p.author, p.created_at, p.merged_at,
           fc.at AS first_commit_at, fr.at AS first_review_at,
           p.deployment_id, p.deployed_at,
           {hours("fc.at", "p.created_at")} AS coding_hours,
           {hours("p.created_at", "fr.at")} AS pickup_hours,
           {hours("fr.at", "p.merged_at")} AS review_hours,
           {hours("p.merged_at", "p.deployed_at")} AS deploy_hours,
           {hours("p.created_at", "p.merged_at")} AS open_hours,
           {hours("coalesce(fc.at, p.created_at)", "p.deployed_at")} AS lead_hours
    FROM period_prs p
    LEFT JOIN first_commit fc ON fc.pull_request_id = p.id
    LEFT JOIN first_review fr ON fr.pull_request_id = p.id
""",
    ),
)
DELIVERY_PARTS: Parts = SCOPE_PARTS + PR_PARTS
# What a report reads more than once (see `dora.delivery_snapshot`), each with the
# columns later statements join on. With a release or goal, which deployment shipped each
# PR is read by two parts (`plan_deploys`, `pr_times`), so it is stored too; without one,
# `plan_deploys` is `scope_deploys` and costs nothing inline.
_SCOPE_STORED: dict[str, tuple[str, ...]] = {
    "project_repos": ("project_key", "repository_id"),
    "scope_repos": ("id",),
    "client_deploys": ("id", "repository_id"),
    "scope_deploys": ("id", "gseq"),
}
_PLAN_STORED: dict[str, tuple[str, ...]] = {
    "shipped": ("pr_id", "deployment_id"),
    "plan_deploys": ("id",),
}


def delivery_stored(params: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The parts a delivery snapshot of `params` stores, in order (see `snapshot`)."""
    planned = params.get("release") is not None or params.get("goal") is not None
    return {**_SCOPE_STORED, **(_PLAN_STORED if planned else {}), "pr_times": ()}


def delivery_params(f: MetricFilter, s: MetricsSettings) -> dict[str, Any]:
    """The bind parameters of every delivery statement: the filter's and the settings'."""
    return {**f.params(), **s.params()}
