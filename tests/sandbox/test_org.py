"""The generated organisation: deterministic, lazily generated, consistent across sides."""

from __future__ import annotations

import dataclasses

from connectors.sandbox import deploy_schedule as ds
from connectors.sandbox.catalog import TYPE_INCIDENT
from connectors.sandbox.mutations import MutationPlan
from connectors.sandbox.org import Org
from connectors.sandbox.pull_requests import Oversize


def test_same_seed_same_org() -> None:
    a, b = Org(3, "small"), Org(3, "small")
    for i in (0, 17, 599):
        assert a.issue(i) == b.issue(i)
    assert a.pull_request(5) == b.pull_request(5)
    assert Org(4, "small").issue(17) != a.issue(17)


def test_oversize_makes_only_the_chosen_pull_request_huge() -> None:
    plain, big = Org(3, "tiny"), Org(3, "tiny", oversize={2: Oversize(250, 120, 60)})
    huge = big.pull_request(2)
    assert (len(huge.commits), len(huge.comments), len(huge.reviews)) == (250, 120, 60)
    assert huge == Org(3, "tiny", oversize={2: Oversize(250, 120, 60)}).pull_request(2)
    assert {c.kind for c in huge.comments} == {"issue", "review"}
    assert all(big.pull_request(j) == plain.pull_request(j)
               for j in range(plain.pull_request_count) if j != 2)  # fmt: skip
    # Database ids (thread ids derive from them) stay unique across the whole org.
    ids = [c.database_id for j in range(big.pull_request_count)
           for c in big.pull_request(j).comments]  # fmt: skip
    assert len(ids) == len(set(ids))


def test_issue_ids_grow_with_creation_and_histories_fit_lifetime() -> None:
    org = Org(1, "small")
    previous = 0
    for i in range(org.issue_count):
        issue = org.issue(i)
        assert issue is not None
        assert issue.created_ms >= previous
        previous = issue.created_ms
        times = [h.created_ms for h in issue.histories]
        assert times == sorted(times)
        if times:
            assert issue.created_ms < times[0] and times[-1] == issue.updated_ms


def test_changelog_features_present() -> None:
    org = Org(2, "small")
    issues = [org.issue(i) for i in range(org.issue_count)]
    statuses = {
        it.to_string
        for i in issues
        if i
        for h in i.histories
        for it in h.items
        if it.field == "status"
    }
    assert {"In Progress", "In progress"} <= statuses  # names differing only in case
    assert any(i and len(i.histories) > 40 for i in issues)
    reopened = any(
        i and any(it.field == "resolution" and it.to is None for h in i.histories for it in h.items)
        for i in issues
    )
    assert reopened


def test_pull_requests_carry_jira_keys_and_link_back() -> None:
    org = Org(5, "small")
    linked = 0
    for j in range(org.pull_request_count):
        pr = org.pull_request(j)
        if pr.issue_index is not None:
            linked += 1
            assert pr.jira_key is not None
            assert pr.jira_key in pr.title and pr.jira_key.lower() in pr.head_ref.lower()
            assert pr in org.pull_requests_for_issue(pr.issue_index)
    assert linked > org.pull_request_count * 0.7
    states = {org.pull_request(j).state for j in range(org.pull_request_count)}
    assert states == {"OPEN", "MERGED", "CLOSED"}


def test_incidents_follow_failed_production_deployments() -> None:
    org = Org(9, "medium")
    incidents = [i for i in range(org.issue_count) if org.skeletons.type[i] == TYPE_INCIDENT]
    assert incidents
    for i in incidents[:20]:
        repo, slot = org.skeletons.incident_cause[i]
        deployment = org.deployment(repo, ds.Environment.PRODUCTION, slot)
        issue = org.issue(i)
        assert issue is not None
        assert deployment.state == "FAILURE" and deployment.incident_issue == i
        assert deployment.created_ms < issue.created_ms


def test_mutations_move_delete_create() -> None:
    org = Org(6, "tiny")
    before = org.now_ms
    report = org.apply(MutationPlan(create=2, update=3, move=1, delete=1, force_push=1))
    assert org.now_ms > before and org.version == 1
    old, new = report.moved[0]
    moved = org.find_issue(old)
    assert moved is not None and moved.key == new and org.find_issue(new) == moved
    assert org.find_issue(report.deleted[0]) is None
    for key in report.created:
        created = org.find_issue(key)
        assert created is not None and created.created_ms == org.now_ms
    for key in report.updated:
        issue = org.find_issue(key)
        assert issue is not None and issue.updated_ms == org.now_ms
    repo_name, number = report.force_pushed[0].split("#")
    repo = next(r for r in org.repositories if r.full_name == repo_name)
    pr = org.pull_request(org.repository_pull_requests(repo.index)[int(number) - 1])
    assert pr.force_pushed_ms == (org.now_ms,)
    twin = Org(6, "tiny")
    twin.apply(MutationPlan(create=2, update=3, move=1, delete=1, force_push=1))
    assert dataclasses.astuple(twin.issue(3) or ()) == dataclasses.astuple(org.issue(3) or ())
