"""azure_devops_sync against the simulator: a full sync lands the generated organisation
exactly; incremental runs converge after edits, new items, a move and a deletion."""

from __future__ import annotations

from sqlalchemy import Engine, text

from connectors.sandbox.azure_devops import AdoOrg
from storage.testing import seed_tenant
from tests.pipelines.ado_support import (
    add_ado_integration,
    expected,
    make_ctx,
    pipeline,
    simulator,
    snapshot,
)


def test_full_sync_lands_the_generated_organisation_exactly(engine: Engine) -> None:
    seed_tenant(engine)
    integration = add_ado_integration(engine)
    org = AdoOrg(7, "tiny", work_items=120, pull_requests=40)
    result = pipeline(simulator(org).handle).run(make_ctx(engine, integration))
    got, want = snapshot(engine), expected(org)
    for table in want:
        assert got[table] == want[table], table
    assert result.stats["transitions"] == len(want["transitions"])
    assert want["deployments"] and want["work_item_links"] and want["transitions"]


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("work_items", "work_item_transitions", "pull_requests", "pr_comments",
                      "pr_reviews", "pr_commits", "work_item_links", "ci_runs", "deployments")
        }  # fmt: skip
