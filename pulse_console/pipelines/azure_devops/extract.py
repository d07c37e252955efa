"""Reading Azure DevOps in the shapes the sync commits: WIQL date windows that fit under the
20,000-id limit, and pull requests with their threads, commits and work items."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connectors.azure_devops import AzureDevOpsClient, WiqlTooManyResults
from connectors.azure_devops.models import PullRequest
from pulse_console.pipelines.azure_devops.transform import PullRequestBundle

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # before any Azure DevOps (or TFS) work item
MIN_WINDOW = timedelta(seconds=1)


class WindowTooDense(RuntimeError):
    """More than 20,000 work items changed within one second: no window can hold them."""


@dataclass(frozen=True)
class Window:
    """Work items of a project with ``since <= ChangedDate < until``, oldest change first."""

    since: datetime | None
    until: datetime
    ids: list[int]
    as_of: datetime | None
    splits: int


def windows(
    client: AzureDevOpsClient, project: str, since: datetime | None, until: datetime
) -> Iterator[Window]:
    """Cover ``[since, until)`` with WIQL windows small enough to be answered: a window
    refused with VS402337 (over 20,000 ids) is halved until it fits; after each answered
    window the rest of the range is tried whole again.
    https://learn.microsoft.com/azure/devops/organizations/settings/work/object-limits
    """
    lo = since
    splits = 0
    while lo is None or lo < until:
        hi = until
        while True:
            try:
                ids, as_of = client.changed_ids(project, lo, hi)
                break
            except WiqlTooManyResults:
                start = lo or EPOCH
                if hi - start <= MIN_WINDOW:
                    raise WindowTooDense(
                        f"project {project!r}: more than 20,000 work items changed between "
                        f"{start.isoformat()} and {hi.isoformat()}; no narrower window exists."
                    ) from None
                hi = start + (hi - start) / 2
                splits += 1
        yield Window(lo, hi, ids, as_of, splits)
        lo = hi


def pull_request_bundle(
    client: AzureDevOpsClient, project: str, repository_id: str, pr: PullRequest
) -> PullRequestBundle:
    """A pull request with its threads, commits and linked work items (three calls)."""
    number = pr.pull_request_id
    threads = client.threads(project, repository_id, number)
    return PullRequestBundle(
        pr=pr,
        threads=threads.items,
        commits=client.pull_request_commits(project, repository_id, number),
        work_items=client.pull_request_work_items(project, repository_id, number),
    )
