"""What a GitHub integration's `config` (jsonb) may say, with defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connectors.github import PageSizes
from pulse_console.pipelines.base import IntegrationRef


class GitHubConfigError(ValueError):
    """The integration cannot be used as stored; the message says what to fix."""


@dataclass(frozen=True)
class GitHubSyncConfig:
    """``integrations.config`` of a GitHub integration.

    Repositories come from ``repos`` (explicit), ``orgs`` filtered by ``patterns``, a
    ``search`` query and (``dev_status``) the repositories Jira's dev-status panels name.
    ``deployments``: ``graphql`` | ``actions`` (deploy workflow runs) | ``auto`` | ``off``.
    ``windows``: repositories walked at once (1-16), all within the account's one rate gate
    (points budget, GitHub's secondary limits: connectors/github/client.py `github_gate`).
    """

    orgs: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    search: str | None = None
    dev_status: bool = True
    project_keys: tuple[str, ...] = ()
    deployments: str = "auto"  # graphql | actions | auto | off
    deploy_workflow: str = r"deploy"
    deployment_overlap_hours: float = 24.0
    enterprise: bool = False
    sizes: PageSizes = field(default_factory=PageSizes)
    windows: int = 4

    @classmethod
    def from_integration(cls, ref: IntegrationRef) -> GitHubSyncConfig:
        return cls.from_dict(ref.config)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GitHubSyncConfig:
        def strs(name: str) -> tuple[str, ...]:
            value = data.get(name) or ()
            return (value,) if isinstance(value, str) else tuple(str(v) for v in value)

        sizes = PageSizes(**{k: int(v) for k, v in (data.get("page_sizes") or {}).items()})
        try:
            windows = int(data.get("windows", 4))
        except (TypeError, ValueError):
            windows = 0
        if not 1 <= windows <= 16:
            raise GitHubConfigError("GitHub setting windows must be a whole number from 1 to 16")
        return cls(
            orgs=strs("orgs"),
            repos=strs("repos"),
            patterns=strs("patterns"),
            search=data.get("search") or None,
            dev_status=bool(data.get("dev_status", True)),
            project_keys=strs("project_keys"),
            deployments=str(data.get("deployments", "auto")),
            deploy_workflow=str(data.get("deploy_workflow", r"deploy")),
            deployment_overlap_hours=float(data.get("deployment_overlap_hours", 24.0)),
            enterprise=bool(data.get("enterprise", False)),
            sizes=sizes,
            windows=windows,
        )
