"""What an Azure DevOps integration's `config` (jsonb) may say, with defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulse_console.pipelines.base import IntegrationRef


class AzureDevOpsConfigError(ValueError):
    """The integration's configuration cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class AzureDevOpsSyncOptions:
    """Tunables of one Azure DevOps integration (all optional).

    ``projects``: project names to sync (empty: every project the PAT can see).
    ``revisions_page_size``: ``$maxPageSize`` of the reporting revisions feed.
    ``pull_request_page_size``: ``$top`` of the pull request list.
    ``overlap_minutes``: how far before a committed watermark incremental reads look again
    (pull requests, release deployments), since the service's clock is not ours.
    ``deployments``: read classic release deployments and YAML environment records.
    ``windows``: chains read at once (1-16): projects' work items, repositories' pull
    requests, projects' builds and deployments; every request within the integration's one
    rate gate (connectors/azure_devops/client.py `ado_gate`).
    """

    projects: tuple[str, ...] = ()
    revisions_page_size: int = 1000
    pull_request_page_size: int = 100
    overlap_minutes: int = 5
    deployments: bool = True
    windows: int = 4

    @classmethod
    def from_integration(cls, ref: IntegrationRef) -> AzureDevOpsSyncOptions:
        config: dict[str, Any] = dict(ref.config or {})
        try:
            options = cls(
                projects=tuple(str(p) for p in config.get("projects") or ()),
                revisions_page_size=int(config.get("revisions_page_size", 1000)),
                pull_request_page_size=int(config.get("pull_request_page_size", 100)),
                overlap_minutes=int(config.get("overlap_minutes", 5)),
                deployments=bool(config.get("deployments", True)),
                windows=int(config.get("windows", 4)),
            )
        except (TypeError, ValueError) as exc:
            raise AzureDevOpsConfigError(
                f"integration {ref.name!r}: invalid Azure DevOps settings: {exc}"
            ) from None
        if not 1 <= options.revisions_page_size <= 1000:
            raise AzureDevOpsConfigError(
                f"integration {ref.name!r}: revisions_page_size must be between 1 and 1000"
            )
        if not 1 <= options.windows <= 16:
            raise AzureDevOpsConfigError(
                f"integration {ref.name!r}: windows must be between 1 and 16"
            )
        return options
