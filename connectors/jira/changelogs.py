"""Complete changelogs for a batch of issues, oldest history first."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from connectors.jira.models.changelog import ChangeHistory
from connectors.jira.models.issues import Issue
from connectors.validation import Rejected

BULK_MAX_ISSUES = 1000  # BulkChangelogRequestBean.issueIdsOrKeys maxItems [JIRA-OAS]
BULK_MAX_FIELDS = 10  # BulkChangelogRequestBean.fieldIds maxItems [JIRA-OAS]


@dataclass
class ChangelogBatch:
    """Histories by issue id, each list complete and sorted oldest first.

    Every requested issue has an entry (possibly empty). ``rejected`` holds histories that did
    not validate, for quarantine.
    """

    histories: dict[str, list[ChangeHistory]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)

    def add(self, issue_id: str, items: Iterable[ChangeHistory]) -> None:
        self.histories.setdefault(issue_id, []).extend(items)

    def finish(self) -> ChangelogBatch:
        for issue_id, items in self.histories.items():
            self.histories[issue_id] = sort_histories(items)
        return self


def sort_histories(items: Iterable[ChangeHistory]) -> list[ChangeHistory]:
    """Oldest first, ties broken by numeric id, duplicates (page overlaps) dropped."""
    unique = {h.id: h for h in items}
    return sorted(unique.values(), key=lambda h: (h.created, _numeric(h.id)))


def split_embedded(issues: Iterable[Issue]) -> tuple[ChangelogBatch, list[str]]:
    """Use each issue's embedded changelog when complete; list the ids that need fetching.

    Enhanced search embeds at most a few dozen newest histories (with ``total``), so an
    issue whose ``len(histories) < total`` — or that has no embedded changelog at all — must be
    fetched.
    """
    batch = ChangelogBatch()
    missing: list[str] = []
    for issue in issues:
        embedded = issue.changelog
        if embedded is not None and embedded.is_complete:
            batch.add(issue.id, embedded.histories)
        else:
            missing.append(issue.id)
    return batch, missing


def chunks(ids: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _numeric(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)
