"""Apache DevLake's public DORA reference cases, loaded into our schema and reproduced.

Inputs and expected outputs: `shared/fixtures/devlake/dora/e2e/` (see its README). DevLake's
domain tables are translated into ours:

- a `cicd_deployment_commits` row is one `deployments` row (`external_id` = its id, start =
  `started_date`, finish = `finished_date`, `environment`, `status` = `result`); DevLake
  scopes deployments by CI scope and repo URL, we by repository, so its repository is
  `<cicd_scope_id>/<repo_url>` — except in the change-lead-time case, where a deployment whose
  commit range (`commits_diffs`) contains a PR's merge commit belongs to that PR's repository
  (DevLake links deployments to PRs only through that commit graph, which we do not keep);
- `project_mapping` becomes the `metrics.project_repositories` setting;
- `pull_request_comments` become `pr_comments`; `pull_request_commits` become `pr_commits`;
- incidents are work items of type `Incident`, mapped to the `incident` kind.

DevLake's minutes are whole minutes rounded up (`math.Ceil` in its `computeTimeSpan`); we
keep exact hours and round the same way here to compare.

`deployment_generator/` derives deployments from CI pipelines and their tasks. Our schema
keeps no CI tables (GitHub Actions runs are turned into `deployments` as they are synced),
so that case feeds its `cicd_pipelines`, `cicd_tasks` and `cicd_pipeline_commits` through
the same derivation, `pulse_console.pipelines.ci_deployments`, and compares the rows with
`cicd_deployment_commits` (one definitional difference, asserted there).
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from pulse_console.metrics.dora import deployment_ranges, incident_attributions
from pulse_console.metrics.filters import MetricFilter
from pulse_console.metrics.pr_cycle import pr_cycles
from pulse_console.metrics.settings import MetricsSettings
from pulse_console.pipelines import ci_deployments
from pulse_console.pipelines.ci_deployments import CiCommit, CiRun, CiTask
from tests.fixtures_path import fixtures_root
from tests.metrics.seed import CLIENT, Seeder

ALL_TIME = MetricFilter(CLIENT, datetime(2000, 1, 1), datetime(2100, 1, 1))


def dora_dir() -> Path:
    return fixtures_root() / "devlake" / "dora" / "e2e"


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def when(value: str) -> datetime | None:
    if not value:
        return None
    value = value.replace("T", " ")
    if "." in value or "+" in value:
        return datetime.fromisoformat(value).astimezone(UTC)
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def minutes(hours: float | None) -> int | None:
    return None if hours is None else math.ceil(round(hours * 60, 6))


def project_repositories(mapping: list[dict[str, str]], repos: list[str]) -> dict[str, Any]:
    """DevLake's project_mapping → {project: [our repository names]}."""
    result: dict[str, list[str]] = {}
    for row in mapping:
        for name in repos:
            scope = name.split("/")[0]
            if row["row_id"] in (scope, name.split("/")[-1]):
                result.setdefault(row["project_name"], []).append(name)
    return result


def load_deployments(
    seed: Seeder, deployments: list[dict[str, str]], repo_of: dict[str, str]
) -> dict[str, int]:
    """Each deployment commit → one deployment; returns our id per DevLake id."""
    repo_ids: dict[str, int] = {}
    ours: dict[str, int] = {}
    for d in deployments:
        name = repo_of.get(d["id"]) or f"{d['cicd_scope_id']}/{d['repo_url']}"
        if name not in repo_ids:
            repo_ids[name] = seed.repo(name)
        ours[d["id"]] = seed.deploy(
            repo_ids[name],
            started=d["started_date"],
            finished=d["finished_date"],
            environment=d["environment"],
            status=d["result"],
            external_id=d["id"],
            sha=d["commit_sha"],
        )
    return ours


# -- change lead time: per-PR coding / pickup / review / deploy / cycle ----------------------


# Where we differ from DevLake's expected output, and why (asserted, so it stays true).
CHANGE_LEAD_TIME_DIFFERENCES = {
    # pr3 was merged 2023-04-14, a day *after* deployment 6 finished, yet DevLake's commit
    # graph puts its merge commit in deployment 6's range (a fabricated case). By time, a PR
    # cannot ship in a deployment that started before it was merged, so we attribute none.
    # Its deploy time is NULL in both (DevLake drops the negative span) and its cycle time
    # is identical.
    ("pr3", "deployment_commit_id"): ("6", None),
    ("pr3", "pr_deployed_date"): ("2023-04-13T07:30:34.000+00:00", None),
}


def test_change_lead_time_per_pr(conn: Connection, seed: Seeder) -> None:
    base = dora_dir() / "change_lead_time"
    prs = rows(base / "pull_requests.csv")
    diffs = rows(base / "commits_diffs.csv")
    deployments = rows(base / "cicd_deployment_commits.csv")
    pr_repo = {p["merge_commit_sha"]: f"devlake/{p['base_repo_id']}" for p in prs}
    shipped_in = {
        d["id"]: pr_repo[x["commit_sha"]]
        for d in deployments
        for x in diffs
        if x["new_commit_sha"] == d["commit_sha"] and x["commit_sha"] in pr_repo
    }
    names = [f"devlake/{r['id']}" for r in rows(base / "repos.csv")]
    repos = {name: seed.repo(name) for name in names}
    ours = load_deployments(seed, deployments, shipped_in)
    by_id = {v: k for k, v in ours.items()}
    commits = rows(base / "pull_request_commits.csv")
    comments = rows(base / "pull_request_comments.csv")
    pr_ids = {}
    for p in prs:
        pr_ids[p["id"]] = seed.pr(
            repos[f"devlake/{p['base_repo_id']}"],
            int(p["id"].removeprefix("pr")),
            created=p["created_date"],
            merged=p["merged_date"] or None,
            author=p["author_id"] or None,
            external_id=p["id"],
            commits=[c["commit_authored_date"] for c in commits if c["pull_request_id"] == p["id"]],
            comments=[
                (c["created_date"], c["account_id"] or None)
                for c in comments
                if c["pull_request_id"] == p["id"]
            ],
        )
    settings = MetricsSettings(
        production_environments=("production",),
        first_deployment_window_days=0,  # DevLake: the first deployment claims no PRs
        project_repositories=project_repositories(rows(base / "project_mapping.csv"), list(repos)),
    )
    got = {p.id: p for p in pr_cycles(conn, ALL_TIME.with_(project="project1"), settings)}
    names = {v: k for k, v in pr_ids.items()}
    actual: dict[str, dict[str, Any]] = {}
    for pr_id, p in got.items():
        actual[names[pr_id]] = {
            "pr_coding_time": minutes(p.coding_hours),
            "pr_pickup_time": minutes(p.pickup_hours),
            "pr_review_time": minutes(p.review_hours),
            "pr_deploy_time": minutes(p.deploy_hours),
            "pr_cycle_time": minutes(p.cycle_hours),
            "deployment_commit_id": by_id.get(p.deployment_id) if p.deployment_id else None,
            "pr_deployed_date": p.deployed_at,
            "first_commit_authored_date": p.first_commit_at,
            "first_comment_date": p.first_review_at,
            "pr_created_date": p.created_at,
            "pr_merged_date": p.merged_at,
        }
    expected_rows = rows(base / "project_pr_metrics.csv")
    assert sorted(actual) == sorted(r["id"] for r in expected_rows)
    differences = {}
    for exp in expected_rows:
        for column, value in actual[exp["id"]].items():
            want: Any = exp[column]
            if column.endswith("_date"):
                want = when(want)
            elif column == "deployment_commit_id":
                want = want or None
            else:
                want = int(want) if want else None
            if value != want:
                differences[(exp["id"], column)] = (exp[column], value)
    assert differences == CHANGE_LEAD_TIME_DIFFERENCES


# -- previous successful deployment ------------------------------------------------------------


def _scoped_repos_setting(mapping_csv: Path, deployments: list[dict[str, str]]) -> dict[str, Any]:
    names = sorted({f"{d['cicd_scope_id']}/{d['repo_url']}" for d in deployments})
    return project_repositories(rows(mapping_csv), names)


def test_previous_successful_deployment(conn: Connection, seed: Seeder) -> None:
    base = dora_dir() / "prev_success_deployment_commit"
    before = rows(base / "cicd_deployment_commits_before.csv")
    load_deployments(seed, before, {})
    settings = MetricsSettings(
        production_environments=("production", "staging"),
        project_repositories=_scoped_repos_setting(base / "project_mapping.csv", before),
    )
    ranges = deployment_ranges(conn, ALL_TIME.with_(project="project1"), settings)
    ext = {r.deployment_id: r.external_id for r in ranges}
    ours = {r.external_id: (ext.get(r.previous_id) if r.previous_id else "") for r in ranges}
    expected = {
        r["id"]: r["prev_success_deployment_commit_id"]
        for r in rows(base / "cicd_deployment_commits_after.csv")
    }
    in_project = {
        d["id"]
        for d in before
        if d["cicd_scope_id"] in ("cicd1", "cicd2")
        and d["result"] == "SUCCESS"
        and d["environment"]
    }
    assert set(ours) == in_project
    assert ours == {k: v for k, v in expected.items() if k in in_project}
    # Everything DevLake leaves without a previous deployment, we leave out or without one.
    assert all(v == "" for k, v in expected.items() if k not in in_project)


# -- incident → deployment ------------------------------------------------------------------


def _load_incident_case(conn: Connection, seed: Seeder) -> tuple[dict[str, str], Path]:
    base = dora_dir() / "connect_incident_to_deployment"
    deployments = rows(
        base / "prev_success_deployment_commit" / "cicd_deployment_commits_after.csv"
    )
    load_deployments(seed, deployments, {})
    mapping = rows(base / "raw_tables" / "project_mapping.csv")
    project_of = {m["row_id"]: m["project_name"] for m in mapping}
    seed.map_issue_type("Incident", "incident")
    for inc in rows(base / "raw_tables" / "incidents.csv"):
        seed.item(
            inc["id"],
            inc["created_date"],
            type="Incident",
            project=project_of.get(inc["scope_id"], "unmapped"),
            resolved=inc["updated_date"],
        )
    seed.setting(
        "metrics.project_repositories",
        _scoped_repos_setting(base / "raw_tables" / "project_mapping.csv", deployments),
    )
    seed.setting("metrics.production_environments", ["production"])
    pipeline = {d["id"]: d["cicd_deployment_id"] for d in deployments}
    return pipeline, base


def test_incident_is_attributed_to_the_latest_deployment_before_it(
    conn: Connection, seed: Seeder
) -> None:
    pipeline, base = _load_incident_case(conn, seed)
    seed.setting("metrics.incident_window_hours", None)  # DevLake's rule has no window
    ext = {d.deployment_id: d.external_id for d in deployment_ranges(conn, ALL_TIME)}
    got = {
        a.key: pipeline[ext[a.deployment_id]]
        for a in incident_attributions(conn, ALL_TIME.with_(project="project1"))
        if a.deployment_id is not None
    }
    expected = {
        r["id"]: r["deployment_id"]
        for r in rows(base / "snapshot_tables" / "project_incident_deployment_relationships.csv")
        if r["project_name"] == "project1"
    }
    assert got == expected


def test_the_attribution_window_leaves_late_incidents_unattributed(
    conn: Connection, seed: Seeder
) -> None:
    pipeline, _ = _load_incident_case(conn, seed)  # default window: 168 hours
    ext = {d.deployment_id: d.external_id for d in deployment_ranges(conn, ALL_TIME)}
    got = {
        a.key: pipeline[ext[a.deployment_id]] if a.deployment_id else None
        for a in incident_attributions(conn, ALL_TIME.with_(project="project1"))
    }
    # November incidents come seven weeks after the last deployment (24 Sep): unattributed.
    assert got == {
        "github:GithubIssue:1:1373792478": "pipeline2",
        "github:GithubIssue:1:1371320153": None,
        "github:GithubIssue:1:1370816458": None,
        "github:GithubIssue:1:1367714738": None,
        "github:GithubIssue:1:1372644519": None,
        "github:GithubIssue:1:1372381019": None,
    }


# -- deployments derived from CI runs -------------------------------------------------------


# Where we differ from DevLake's expected output, and why (asserted, so it stays true).
DEPLOYMENT_GENERATOR_DIFFERENCES = {
    # A pipeline still running has no finish, so DevLake's start (`finished_date -
    # duration_sec`, deployment_commits_generator.go in apache/incubator-devlake) is empty;
    # we keep its creation time, since a deployment without a time falls in no period.
    (
        "gitlab:GitlabPipeline:1:457475337:https://gitlab.com/gitlab-data/snowflake_spend",
        "started_date",
    ): ("", "2022-01-27T10:07:36.502+00:00"),
}


def _ci_runs(base: Path, project: str) -> list[CiRun]:
    scopes = {
        m["row_id"]
        for m in rows(base / "project_mapping.csv")
        if m["project_name"] == project and m["table"] == "cicd_scopes"
    }
    tasks = rows(base / "cicd_tasks.csv")
    commits = rows(base / "cicd_pipeline_commits.csv")
    return [
        CiRun(
            id=p["id"],
            name=p["name"],
            result=p["result"] or None,
            status=p["status"] or None,
            type=p["type"] or None,
            environment=p["environment"] or None,
            created_at=when(p["created_date"]),
            finished_at=when(p["finished_date"]),
            duration_sec=float(p["duration_sec"]) if p["duration_sec"] else None,
            commits=tuple(
                CiCommit(c["commit_sha"], c["repo_url"], c["branch"])
                for c in commits
                if c["pipeline_id"] == p["id"]
            ),
            tasks=tuple(
                CiTask(t["type"], t["environment"], t["result"])
                for t in tasks
                if t["pipeline_id"] == p["id"]
            ),
        )
        for p in rows(base / "cicd_pipelines.csv")
        if p["cicd_scope_id"] in scopes
    ]


def test_deployments_derived_from_ci_runs() -> None:
    base = dora_dir() / "deployment_generator"
    runs = _ci_runs(base, "project1")
    scope = {p["id"]: p["cicd_scope_id"] for p in rows(base / "cicd_pipelines.csv")}
    actual = {
        d.external_id: {
            "commit_sha": d.sha,
            "cicd_scope_id": scope[d.run_id],
            "cicd_deployment_id": d.run_id,
            "result": d.status,
            "repo_url": d.repo,
            "environment": d.environment,
            "started_date": d.created_at,
            "finished_date": d.finished_at,
        }
        for d in ci_deployments.deployments(runs)
    }
    expected_rows = rows(base / "cicd_deployment_commits.csv")
    assert sorted(actual) == sorted(r["id"] for r in expected_rows)
    differences = {}
    for exp in expected_rows:
        for column, value in actual[exp["id"]].items():
            want: Any = when(exp[column]) if column.endswith("_date") else exp[column]
            if value != want:
                got = (
                    value.isoformat(timespec="milliseconds")
                    if isinstance(value, datetime)
                    else value
                )
                differences[(exp["id"], column)] = (exp[column], got)
    assert differences == DEPLOYMENT_GENERATOR_DIFFERENCES


@pytest.mark.parametrize(
    "case", ["change_lead_time", "connect_incident_to_deployment", "deployment_generator"]
)
def test_the_reference_cases_are_present(case: str) -> None:
    assert (dora_dir() / case).is_dir()
