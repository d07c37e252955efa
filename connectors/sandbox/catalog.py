"""Static vocabulary of the generated Jira site: statuses, workflows, issue types, fields.

Status ids 1, 3, 4, 5, 6, 10000 and 10001 are the ids Jira Cloud gives its built-in
statuses; the rest are "custom" statuses as a site admin would add them. Two statuses differ
only in case ("In Progress" / "In progress"), as happens when a team-managed project
creates its own copy: consumers must not merge them by name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class StatusCategory(enum.Enum):
    """Jira's three status categories: (id, key, colorName, name).

    https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-workflow-status-categories/
    """

    TODO = (2, "new", "blue-gray", "To Do")
    IN_PROGRESS = (4, "indeterminate", "yellow", "In Progress")
    DONE = (3, "done", "green", "Done")

    @property
    def id(self) -> int:
        return self.value[0]

    @property
    def key(self) -> str:
        return self.value[1]


@dataclass(frozen=True, slots=True)
class Status:
    id: str
    name: str
    category: StatusCategory
    description: str


_S = StatusCategory
STATUSES: tuple[Status, ...] = (
    Status(
        "1", "Open", _S.TODO, "The issue is open and ready for the assignee to start work on it."
    ),
    Status("3", "In Progress", _S.IN_PROGRESS, "This issue is being actively worked on."),
    Status("4", "Reopened", _S.TODO, "This issue was once resolved, but was not correct."),
    Status("5", "Resolved", _S.DONE, "A resolution has been taken, awaiting verification."),
    Status("6", "Closed", _S.DONE, "The issue is considered finished."),
    Status("10000", "To Do", _S.TODO, ""),
    Status("10001", "Done", _S.DONE, ""),
    Status("10002", "Code Review", _S.IN_PROGRESS, "Waiting for a pull request review."),
    Status("10003", "QA", _S.IN_PROGRESS, "Being verified by QA."),
    Status("10004", "In progress", _S.IN_PROGRESS, "Team-managed copy of In Progress."),
    Status("10005", "In Review", _S.IN_PROGRESS, ""),
    Status("10006", "Backlog", _S.TODO, ""),
    Status("10007", "Investigating", _S.IN_PROGRESS, "Incident under investigation."),
    Status("10008", "Mitigated", _S.IN_PROGRESS, "Customer impact has stopped."),
)
STATUS_BY_NAME: dict[str, Status] = {s.name: s for s in STATUSES}


@dataclass(frozen=True, slots=True)
class Workflow:
    """A forward path of statuses and where a reopened issue goes back to."""

    name: str
    path: tuple[Status, ...]
    reopen_to: Status

    @property
    def done_from(self) -> int:
        """Index of the first status of the Done category on the path."""
        for i, status in enumerate(self.path):
            if status.category is StatusCategory.DONE:
                return i
        return len(self.path) - 1


def _wf(name: str, reopen_to: str, *names: str) -> Workflow:
    return Workflow(name, tuple(STATUS_BY_NAME[n] for n in names), STATUS_BY_NAME[reopen_to])


WORKFLOW_STANDARD = _wf(
    "standard", "In Progress", "To Do", "In Progress", "Code Review", "QA", "Done"
)
WORKFLOW_TEAM_MANAGED = _wf(
    "team-managed", "In progress", "Backlog", "To Do", "In progress", "In Review", "Done"
)
WORKFLOW_BUG = _wf(
    "bug", "Reopened", "Open", "In Progress", "Code Review", "QA", "Resolved", "Closed"
)
WORKFLOW_EPIC = _wf("epic", "In Progress", "To Do", "In Progress", "Done")
WORKFLOW_INCIDENT = _wf(
    "incident", "Investigating", "Open", "Investigating", "Mitigated", "Resolved", "Closed"
)


@dataclass(frozen=True, slots=True)
class IssueType:
    id: str
    name: str
    description: str
    hierarchy_level: int
    # Median lifetime from creation to last change, in hours (log-normal around it).
    median_hours: float
    # Relative frequency among generated issues.
    weight: int


ISSUE_TYPES: tuple[IssueType, ...] = (
    IssueType("10001", "Story", "Functionality or a feature expressed as a user goal.", 0, 150, 40),
    IssueType("10004", "Bug", "A problem or error.", 0, 70, 25),
    IssueType("10002", "Task", "A small, distinct piece of work.", 0, 50, 26),
    IssueType("10000", "Epic", "A big user story that needs to be broken down.", 1, 900, 4),
    IssueType("10010", "Incident", "A production incident.", 0, 10, 0),
)
TYPE_STORY, TYPE_BUG, TYPE_TASK, TYPE_EPIC, TYPE_INCIDENT = range(5)
# Types drawn at random; incidents are placed deliberately after failed deployments.
RANDOM_TYPE_WEIGHTS: tuple[int, ...] = tuple(t.weight for t in ISSUE_TYPES)


def workflow_for(issue_type: int, team_managed: bool) -> Workflow:
    if issue_type == TYPE_BUG:
        return WORKFLOW_BUG
    if issue_type == TYPE_EPIC:
        return WORKFLOW_EPIC
    if issue_type == TYPE_INCIDENT:
        return WORKFLOW_INCIDENT
    return WORKFLOW_TEAM_MANAGED if team_managed else WORKFLOW_STANDARD


@dataclass(frozen=True, slots=True)
class Priority:
    id: str
    name: str


PRIORITIES: tuple[Priority, ...] = (
    Priority("1", "Highest"),
    Priority("2", "High"),
    Priority("3", "Medium"),
    Priority("4", "Low"),
    Priority("5", "Lowest"),
)

# Custom field ids as Jira Cloud assigns them on a fresh Software site.
FIELD_STORY_POINTS = "customfield_10016"
FIELD_SPRINT = "customfield_10020"
FIELD_TEAM = "customfield_10001"
FIELD_RANK = "customfield_10019"
FIELD_DEVELOPMENT = "customfield_10000"


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One row of GET /rest/api/3/field (FieldDetails)."""

    id: str
    name: str
    custom: bool
    schema: dict[str, object]
    clause_names: tuple[str, ...]
    orderable: bool = True
    navigable: bool = True
    searchable: bool = True


def _system(fid: str, name: str, type_: str, *clauses: str, items: str | None = None) -> FieldDef:
    schema: dict[str, object] = {"type": type_, "system": fid}
    if items:
        schema["items"] = items
    return FieldDef(fid, name, False, schema, clauses or (fid,))


def _custom(
    num: int, name: str, type_: str, plugin: str, clause: str, items: str | None = None
) -> FieldDef:
    schema: dict[str, object] = {
        "type": type_,
        "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{plugin}"
        if ":" not in plugin
        else plugin,
        "customId": num,
    }
    if items:
        schema["items"] = items
    return FieldDef(f"customfield_{num}", name, True, schema, (f"cf[{num}]", clause))


FIELDS: tuple[FieldDef, ...] = (
    _system("summary", "Summary", "string"),
    _system("description", "Description", "string"),
    _system("issuetype", "Issue Type", "issuetype", "issuetype", "type"),
    _system("project", "Project", "project"),
    _system("status", "Status", "status"),
    _system("statuscategorychangedate", "Status Category Changed", "datetime"),
    _system("priority", "Priority", "priority"),
    _system("assignee", "Assignee", "user"),
    _system("reporter", "Reporter", "user"),
    _system("creator", "Creator", "user"),
    _system("created", "Created", "datetime", "created", "createdDate"),
    _system("updated", "Updated", "datetime", "updated", "updatedDate"),
    _system("resolution", "Resolution", "resolution"),
    _system("resolutiondate", "Resolved", "datetime", "resolved", "resolutiondate"),
    _system("labels", "Labels", "array", "labels", items="string"),
    _system("components", "Components", "array", "component", items="component"),
    _system("fixVersions", "Fix versions", "array", "fixVersion", items="version"),
    _system("issuelinks", "Linked Issues", "array", "issuelinks", items="issuelinks"),
    _system("parent", "Parent", "issuelink", "parent"),
    _system("subtasks", "Sub-tasks", "array", "subtasks", items="issuelinks"),
    _custom(10016, "Story point estimate", "number", "jsw-story-points", "Story point estimate"),
    _custom(10020, "Sprint", "array", "com.pyxis.greenhopper.jira:gh-sprint", "Sprint", "json"),
    _custom(10001, "Team", "team", "com.atlassian.teams:rm-teams-custom-field-team", "Team"),
    _custom(10019, "Rank", "any", "com.pyxis.greenhopper.jira:gh-lexo-rank", "Rank"),
    _custom(
        10000,
        "Development",
        "any",
        "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf",
        "development",
    ),
)
FIELD_BY_ID: dict[str, FieldDef] = {f.id: f for f in FIELDS}
