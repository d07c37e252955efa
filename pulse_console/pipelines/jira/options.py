"""What a Jira integration's `config` (jsonb) may say, with defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.jira import JIRA_MAX_IN_FLIGHT
from pulse_console.pipelines.base import IntegrationRef


class JiraConfigError(ValueError):
    """The integration's configuration cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class JiraSyncOptions:
    """Tunables of one Jira integration (all optional except ``email`` on Cloud).

    ``projects``: project keys to sync (empty: every visible project).
    ``overlap_minutes``: how far before the committed watermark an incremental run looks
    again (JQL has minute resolution and Jira's clock is not ours).
    ``metadata_refresh_minutes``: incremental runs reuse projects/statuses/fields fetched
    less than this long ago (a full run always refreshes them).
    ``reconcile``: walk every issue id after each run to deactivate deleted, moved-out or
    no longer visible issues and to fetch any the table lacks (id-only pages: cheap).
    ``windows``: how many page chains a full sync runs at once (1: one chain, as before).
    Its JQL is split per project, and a project of more than ``window_issues`` issues by
    ``updated`` ranges of about that many issues; every chain has its own checkpoint.
    ``window_processes``: run each of those chains in a process of its own (when the sync
    talks HTTP to the server), so they do not take turns on one interpreter; false keeps
    them in the sync's threads.
    """

    email: str | None = None
    deployment: str = "cloud"
    projects: tuple[str, ...] = ()
    page_size: int = 100
    overlap_minutes: int = 5
    fields: tuple[str, ...] = ("*navigable",)
    dev_status: bool = True
    dev_status_applications: tuple[str, ...] = ("GitHub",)
    metadata_refresh_minutes: int = 60
    reconcile: bool = True
    reconcile_page_size: int = 5000
    windows: int = 4
    window_issues: int = 2000
    window_processes: bool = True
    max_in_flight: int = JIRA_MAX_IN_FLIGHT

    @classmethod
    def from_integration(cls, ref: IntegrationRef) -> JiraSyncOptions:
        config: dict[str, Any] = dict(ref.config or {})
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(config) - known)
        if unknown:
            # Tolerated (other tools may store notes there) but never silently used.
            config = {k: v for k, v in config.items() if k in known}
        try:
            options = cls(
                email=config.get("email"),
                deployment=str(config.get("deployment", "cloud")),
                projects=tuple(str(p).upper() for p in config.get("projects") or ()),
                page_size=int(config.get("page_size", 100)),
                overlap_minutes=int(config.get("overlap_minutes", 5)),
                fields=tuple(config.get("fields") or ("*navigable",)),
                dev_status=bool(config.get("dev_status", True)),
                dev_status_applications=tuple(config.get("dev_status_applications") or ("GitHub",)),
                metadata_refresh_minutes=int(config.get("metadata_refresh_minutes", 60)),
                reconcile=bool(config.get("reconcile", True)),
                reconcile_page_size=int(config.get("reconcile_page_size", 5000)),
                windows=int(config.get("windows", 4)),
                window_issues=int(config.get("window_issues", 2000)),
                window_processes=bool(config.get("window_processes", True)),
                max_in_flight=int(config.get("max_in_flight", JIRA_MAX_IN_FLIGHT)),
            )
        except (TypeError, ValueError) as exc:
            raise JiraConfigError(
                f"integration {ref.name!r}: invalid Jira settings: {exc}"
            ) from None
        if options.deployment not in ("cloud", "data_center"):
            raise JiraConfigError(
                f"integration {ref.name!r}: deployment must be 'cloud' or 'data_center'"
            )
        if options.deployment == "cloud" and not options.email:
            raise JiraConfigError(
                f"integration {ref.name!r}: Jira Cloud needs the account e-mail in its config; "
                "add it again with `pulse-console integration add jira --email …`"
            )
        if not 1 <= options.page_size <= 100:
            raise JiraConfigError(f"integration {ref.name!r}: page_size must be between 1 and 100")
        if not 1 <= options.windows <= 16:
            raise JiraConfigError(f"integration {ref.name!r}: windows must be between 1 and 16")
        if not 1 <= options.max_in_flight <= 100:
            raise JiraConfigError(
                f"integration {ref.name!r}: max_in_flight must be between 1 and 100"
            )
        if options.window_issues < options.page_size:
            raise JiraConfigError(
                f"integration {ref.name!r}: window_issues must be at least page_size"
            )
        return options
