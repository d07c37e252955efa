"""Deployments of each repository to production and staging, generated per slot.

The deployed commit is the merge commit of the latest pull request merged before the
deployment started. A production deployment that an incident follows always fails.
"""

from __future__ import annotations

import bisect

from connectors.sandbox import deploy_schedule as ds
from connectors.sandbox.code_model import Deployment, DeploymentStatus
from connectors.sandbox.issue_skeleton import IssueSkeletons
from connectors.sandbox.pull_requests import PullRequestSkeletons, merge_commit_oid, sha40
from connectors.sandbox.seeding import STREAM_DEPLOYMENT, mix64, unit
from connectors.sandbox.structure import Structure, node_id
from connectors.sandbox.timefmt import MINUTE_MS


def deployment_count(start_ms: int, now_ms: int, env: ds.Environment) -> int:
    return ds.slot_count(start_ms, now_ms, env)


def generate_deployment(
    seed: int,
    structure: Structure,
    sk: IssueSkeletons,
    pk: PullRequestSkeletons,
    start_ms: int,
    repo: int,
    env: ds.Environment,
    slot: int,
) -> Deployment:
    created = ds.slot_time(seed, start_ms, repo, env, slot)
    stream = repo * 4 + int(env)
    incident = sk.incident_by_slot.get((repo, slot)) if env is ds.Environment.PRODUCTION else None
    failed = incident is not None or ds.base_failed(seed, repo, env, slot)
    error = not failed and unit(seed, STREAM_DEPLOYMENT, stream, slot + 2_000_000) < 0.02
    final = "FAILURE" if failed else ("ERROR" if error else "SUCCESS")
    duration = int((2 + 20 * unit(seed, STREAM_DEPLOYMENT, stream, slot + 3_000_000)) * MINUTE_MS)
    merged_at = pk.merged_ms[repo]
    pos = bisect.bisect_left(merged_at, created)
    sha = merge_commit_oid(seed, pk.merged_pr[repo][pos - 1]) if pos else sha40(seed, "init", repo)
    base_id = 50_000_000 + (repo * 2 + int(env)) * 100_000 + slot
    repository = structure.repositories[repo]
    statuses = (
        DeploymentStatus(
            base_id * 2,
            node_id("DES_kwDO", mix64(seed, STREAM_DEPLOYMENT, base_id, 1)),
            "IN_PROGRESS",
            created + 20_000,
            "Deployment started",
            f"https://ci.example.com/{repository.full_name}/deploy/{base_id}",
        ),
        DeploymentStatus(
            base_id * 2 + 1,
            node_id("DES_kwDO", mix64(seed, STREAM_DEPLOYMENT, base_id, 2)),
            final,
            created + duration,
            {"SUCCESS": "Deployed", "FAILURE": "Health checks failed", "ERROR": "Runner lost"}[
                final
            ],
            f"https://ci.example.com/{repository.full_name}/deploy/{base_id}",
        ),
    )
    return Deployment(
        repository=repo,
        environment=env.label,
        slot=slot,
        database_id=base_id,
        node_id=node_id("DE_kwDO", mix64(seed, STREAM_DEPLOYMENT, base_id)),
        sha=sha,
        ref=repository.default_branch,
        task="deploy",
        creator_login="github-actions[bot]",
        created_ms=created,
        updated_ms=created + duration,
        statuses=statuses,
        incident_issue=incident,
    )
