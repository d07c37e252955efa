"""The only part of the Azure DevOps pipeline that talks to the service: opens the client
with the integration's PAT and reads what the sync commits — WIQL date windows that fit
under the 20,000-id limit, work items by 200, the revision feed, pull requests with their
threads, commits and work items, builds, release deployments and environment records."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.azure_devops import (
    AzureDevOpsClient,
    Page,
    ThrottleState,
    WiqlTooManyResults,
    ado_gate,
)
from connectors.azure_devops.models import (
    Build,
    Environment,
    EnvironmentDeploymentRecord,
    GitRepository,
    PullRequest,
    ReleaseDeployment,
    TeamProject,
    WorkItem,
    WorkItemField,
    WorkItemRevision,
    WorkItemType,
)
from connectors.http import Clock, HttpCounters, Observer, RateLimitPolicy, RetryPolicy, Secret
from connectors.http.gate import RateGate
from pulse_console.pipelines.azure_devops.transform import REVISION_FIELDS, PullRequestBundle
from pulse_console.pipelines.base import RunContext
from pulse_console.pipelines.context import token_secret_name

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # before any Azure DevOps (or TFS) work item
MIN_WINDOW = timedelta(seconds=1)
BUILD_IDS_PER_CALL = 100


class AzureDevOpsTokenMissing(ValueError):
    """The integration has no PAT in the secret store."""


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


@dataclass(frozen=True)
class HttpOptions:
    """How the client is built (tests and benchmarks pass a transport, clock, policies)."""

    transport: httpx.BaseTransport | None = None
    clock: Clock | None = None
    retry: RetryPolicy | None = None
    rate_limit: RateLimitPolicy | None = None
    gate: RateGate | None = None  # default: the process's gate of the integration (ado_gate)


class Source:
    """One run's reader of an Azure DevOps organization."""

    def __init__(self, client: AzureDevOpsClient) -> None:
        self.client = client

    @classmethod
    def open(cls, ctx: RunContext, http: HttpOptions) -> Source:
        token = ctx.secret(token_secret_name(ctx))
        if not token:
            raise AzureDevOpsTokenMissing(
                f"Azure DevOps integration {ctx.integration.name!r} has no personal access "
                "token. Add it again with `pulse-console integration add azure_devops … "
                "--token-stdin`."
            )
        base_url = ctx.integration.base_url
        client = AzureDevOpsClient.create(
            base_url,
            Secret(token),
            transport=http.transport,
            clock=http.clock,
            cancel=ctx.cancel,
            retry=http.retry,
            rate_limit=http.rate_limit,
            # Every window of the run, and any other run of the integration, in one budget.
            gate=http.gate
            or ado_gate(ctx.integration.base_url, f"integration:{ctx.integration.id}"),
        )
        return cls(client)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- state of the connection -----------------------------------------------------------

    def watch(self, observer: Observer) -> None:
        self.client.set_observer(observer)

    def counters(self) -> HttpCounters:
        return self.client.counters()

    def throttle(self) -> ThrottleState:
        return self.client.throttle()

    # -- metadata --------------------------------------------------------------------------

    def projects(self) -> list[TeamProject]:
        return self.client.projects()

    def work_item_types(self, project: str) -> list[WorkItemType]:
        return self.client.work_item_types(project)

    def fields(self) -> list[WorkItemField]:
        return self.client.fields()

    def repositories(self, project: str) -> list[GitRepository]:
        return self.client.repositories(project)

    def server_time(self, project: str) -> datetime:
        now = self.client.server_time(project)
        if now is None:
            raise RuntimeError(f"Azure DevOps did not say its time (asOf) for {project!r}")
        return now

    # -- work items ------------------------------------------------------------------------

    def windows(self, project: str, since: datetime | None, until: datetime) -> Iterator[Window]:
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
                    ids, as_of = self.client.changed_ids(project, lo, hi)
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

    def work_items(self, ids: Sequence[int]) -> Page[WorkItem]:
        return self.client.work_items(ids) if ids else Page([])

    def deleted(self, project: str) -> list[int]:
        return self.client.recycle_bin(project)

    def revisions(self, token: str | None, page_size: int) -> Page[WorkItemRevision]:
        return self.client.revisions_page(token, REVISION_FIELDS, page_size=page_size)

    # -- pull requests ---------------------------------------------------------------------

    def pull_requests(
        self, project: str, repository_id: str, **criteria: Any
    ) -> Iterator[Page[PullRequest]]:
        return self.client.pull_requests(project, repository_id, **criteria)

    def bundle(self, project: str, repository_id: str, pr: PullRequest) -> PullRequestBundle:
        """A pull request with its threads, commits and linked work items (three calls)."""
        number = pr.pull_request_id
        return PullRequestBundle(
            pr=pr,
            threads=self.client.threads(project, repository_id, number).items,
            commits=self.client.pull_request_commits(project, repository_id, number),
            work_items=self.client.pull_request_work_items(project, repository_id, number),
        )

    # -- builds and deployments ------------------------------------------------------------

    def builds(
        self, project: str, min_time: datetime | None, continuation: str | None
    ) -> Page[Build]:
        return self.client.builds_page(project, min_time=min_time, continuation=continuation)

    def builds_by_id(self, project: str, ids: Sequence[int]) -> Iterator[Page[Build]]:
        for start in range(0, len(ids), BUILD_IDS_PER_CALL):
            yield self.client.builds_page(
                project, build_ids=ids[start : start + BUILD_IDS_PER_CALL]
            )

    def release_deployments(
        self, project: str, min_modified: datetime | None, continuation: str | None
    ) -> Page[ReleaseDeployment]:
        return self.client.release_deployments_page(
            project, min_modified=min_modified, continuation=continuation
        )

    def environments(self, project: str) -> list[Environment]:
        return self.client.environments(project)

    def environment_records(
        self, project: str, environment_id: int, continuation: str | None
    ) -> Page[EnvironmentDeploymentRecord]:
        return self.client.environment_records_page(
            project, environment_id, continuation=continuation
        )
