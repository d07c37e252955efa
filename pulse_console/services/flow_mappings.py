"""Flow steps and the mappings onto them: statuses, issue types, unmapped statuses, validation.

The one place steps and mappings are edited (the console, its commands and the tests all
call it); every change is audited. How a status then resolves to a step in the metrics is
`pulse_console.metrics.mapping_rules`, which also counts the unmapped statuses shown here.

Status matching is case-insensitive; a mapping may be per issue type. Every change is scoped
to the client: a step or mapping of another client is "no longer exists". A mapping may only
point at an active step, and a duplicate (same status and type, any case) is refused rather
than repointed. Deleting a step first reports its impact, then moves its mappings to another
active step of the client (or drops them, when the operator chose that) in the same
transaction as the delete.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pulse_console.metrics.mapping_rules import UnmappedStatus, unmapped_statuses
from pulse_console.services import audit
from storage.db import Database
from storage.models import FlowStep, IssueTypeMapping, StatusMapping, WorkItem
from storage.tenancy import ensure_client, find_client

CATEGORIES = ("todo", "in_progress", "done")
CATEGORY_LABEL = {"todo": "To Do", "in_progress": "In Progress", "done": "Done"}
KINDS = ("feature", "defect", "incident", "task", "other")


class MappingError(Exception):
    """A mapping change was refused; the message says why and what to do."""


@dataclass(frozen=True)
class StepView:
    id: int
    name: str
    category: str
    position: int
    active: bool
    mappings: int


@dataclass(frozen=True)
class StatusMappingView:
    id: int
    status_name: str
    issue_type: str | None
    step: str
    step_id: int


@dataclass(frozen=True)
class IssueTypeMappingView:
    id: int
    issue_type: str
    kind: str


@dataclass(frozen=True)
class StepImpact:
    step: str
    mappings: int
    work_items: int


@dataclass(frozen=True)
class MappingImpact:
    """What changing or deleting one mapping touches, shown before it is done."""

    mapping: str  # e.g. "Done (any type) → Done" or "Incident → incident"
    work_items: int
    note: str = ""  # what else depends on it (incidents: change failure rate, restore time)


@dataclass(frozen=True)
class FlowMappings:
    steps: list[StepView]
    status_mappings: list[StatusMappingView]
    issue_types: list[IssueTypeMappingView]
    unmapped: list[UnmappedStatus]


def _client(session: Session, client: str) -> int | None:
    return find_client(session, client)


def load(database: Database, client: str) -> FlowMappings:
    with database.session() as session:
        cid = _client(session, client)
        if cid is None:
            return FlowMappings([], [], [], [])
        counts = (
            select(StatusMapping.flow_step_id, func.count().label("n"))
            .where(StatusMapping.client_id == cid)
            .group_by(StatusMapping.flow_step_id)
            .subquery()
        )
        steps = [
            StepView(s.id, s.name, s.category, s.position, s.active, int(n or 0))
            for s, n in session.execute(
                select(FlowStep, counts.c.n)
                .outerjoin(counts, counts.c.flow_step_id == FlowStep.id)
                .where(FlowStep.client_id == cid)
                .order_by(FlowStep.position, FlowStep.name)
            ).all()
        ]
        mappings = [
            StatusMappingView(m.id, m.status_name, m.issue_type, name, m.flow_step_id)
            for m, name in session.execute(
                select(StatusMapping, FlowStep.name)
                .join(FlowStep, FlowStep.id == StatusMapping.flow_step_id)
                .where(StatusMapping.client_id == cid)
                .order_by(func.lower(StatusMapping.status_name), StatusMapping.issue_type)
            ).all()
        ]
        types = [
            IssueTypeMappingView(t.id, t.issue_type, t.kind)
            for t in session.execute(
                select(IssueTypeMapping)
                .where(IssueTypeMapping.client_id == cid)
                .order_by(func.lower(IssueTypeMapping.issue_type))
            ).scalars()
        ]
        return FlowMappings(steps, mappings, types, unmapped_statuses(session.connection(), cid))


def _step(session: Session, cid: int, step_id: int | None) -> FlowStep | None:
    """The client's step `step_id`, else None (another client's step counts as missing)."""
    step = None if step_id is None else session.get(FlowStep, step_id)
    return step if step is not None and step.client_id == cid else None


def add_step(
    database: Database,
    client: str,
    name: str,
    category: str,
    *,
    actor: str,
    is_active_work: bool = True,
) -> int:
    """A new step at the end of the board; `is_active_work=False` marks a waiting step."""
    name = name.strip()
    if not name:
        raise MappingError("A flow step needs a name.")
    if category not in CATEGORIES:
        raise MappingError("Choose a category: To Do, In Progress or Done.")
    with database.session() as session:
        cid = ensure_client(session, client)
        clash = session.execute(
            select(FlowStep.id).where(
                FlowStep.client_id == cid, func.lower(FlowStep.name) == name.lower()
            )
        ).scalar()
        if clash is not None:
            raise MappingError(f"A step named {name!r} already exists.")
        position = session.execute(
            select(func.coalesce(func.max(FlowStep.position) + 1, 0)).where(
                FlowStep.client_id == cid
            )
        ).scalar_one()
        step = FlowStep(
            client_id=cid,
            name=name,
            category=category,
            position=int(position),
            is_active_work=is_active_work,
        )
        session.add(step)
        session.flush()
        audit.note(
            session,
            actor,
            "flow.step.add",
            {"category": category, "is_active_work": is_active_work},
        )
        return step.id


def map_status(
    database: Database,
    client: str,
    status_name: str,
    step_id: int,
    *,
    issue_type: str | None = None,
    actor: str,
) -> int:
    """Map a status (case-insensitively, optionally per issue type); refuses duplicates."""
    status_name = status_name.strip()
    if not status_name:
        raise MappingError("Name the status to map.")
    try:
        with database.session() as session:
            cid = ensure_client(session, client)
            step = _step(session, cid, step_id)
            if step is None:
                raise MappingError("That flow step no longer exists.")
            if not step.active:
                raise MappingError(f"Step {step.name!r} is switched off; map to an active step.")
            row = StatusMapping(
                client_id=cid,
                status_name=status_name,
                issue_type=issue_type or None,
                flow_step_id=step_id,
            )
            session.add(row)
            session.flush()
            audit.note(
                session, actor, "flow.status.map", {"step": step.name, "issue_type": issue_type}
            )
            return row.id
    except IntegrityError:
        scope = f" for {issue_type}" if issue_type else ""
        raise MappingError(
            f"{status_name!r}{scope} is already mapped (case-insensitive)."
        ) from None


def unmap_status(database: Database, client: str, mapping_id: int, *, actor: str) -> None:
    with database.session() as session:
        row = session.get(StatusMapping, mapping_id)
        if row is None or row.client_id != find_client(session, client):
            return
        session.delete(row)
        audit.note(session, actor, "flow.status.unmap")


def map_issue_type(
    database: Database, client: str, issue_type: str, kind: str, *, actor: str
) -> int:
    if kind not in KINDS:
        raise MappingError(f"Choose a kind: {', '.join(KINDS)}.")
    try:
        with database.session() as session:
            cid = ensure_client(session, client)
            row = IssueTypeMapping(client_id=cid, issue_type=issue_type.strip(), kind=kind)
            session.add(row)
            session.flush()
            audit.note(session, actor, "flow.issue_type.map", {"kind": kind})
            return row.id
    except IntegrityError:
        raise MappingError(f"{issue_type!r} is already mapped (case-insensitive).") from None


def _issue_type_row(session: Session, client: str, mapping_id: int) -> IssueTypeMapping:
    row = session.get(IssueTypeMapping, mapping_id)
    if row is None or row.client_id != find_client(session, client):
        raise MappingError("That issue type mapping no longer exists.")
    return row


def _status_row(session: Session, client: str, mapping_id: int) -> StatusMapping:
    row = session.get(StatusMapping, mapping_id)
    if row is None or row.client_id != find_client(session, client):
        raise MappingError("That status mapping no longer exists.")
    return row


INCIDENT_NOTE = "Incidents drive change failure rate and time to restore."


def issue_type_impact(database: Database, client: str, mapping_id: int) -> MappingImpact:
    """The work items of the mapped type (case-insensitive), before its kind changes."""
    with database.session() as session:
        row = _issue_type_row(session, client, mapping_id)
        items = session.execute(
            select(func.count()).where(
                WorkItem.client_id == row.client_id,
                func.lower(WorkItem.type) == row.issue_type.lower(),
            )
        ).scalar_one()
        note = INCIDENT_NOTE if row.kind == "incident" else ""
        return MappingImpact(f"{row.issue_type} → {row.kind}", int(items), note)


def status_mapping_impact(database: Database, client: str, mapping_id: int) -> MappingImpact:
    """The work items now in the mapped status (of the mapped type, when it has one)."""
    with database.session() as session:
        row = _status_row(session, client, mapping_id)
        step = session.get(FlowStep, row.flow_step_id)
        where = [
            WorkItem.client_id == row.client_id,
            func.lower(WorkItem.status) == row.status_name.lower(),
        ]
        if row.issue_type:
            where.append(func.lower(WorkItem.type) == row.issue_type.lower())
        items = session.execute(select(func.count()).where(*where)).scalar_one()
        name = f"{row.status_name} ({row.issue_type or 'any type'}) → {step.name if step else '?'}"
        return MappingImpact(name, int(items))


def remap_status(
    database: Database, client: str, mapping_id: int, step_id: int, *, actor: str
) -> None:
    """Point an existing status mapping at another active step of the client."""
    with database.session() as session:
        row = _status_row(session, client, mapping_id)
        step = _step(session, row.client_id, step_id)
        if step is None:
            raise MappingError("That flow step no longer exists.")
        if not step.active:
            raise MappingError(f"Step {step.name!r} is switched off; map to an active step.")
        row.flow_step_id = step_id
        audit.note(session, actor, "flow.status.remap", {"step": step.name})


def set_issue_type_kind(
    database: Database, client: str, mapping_id: int, kind: str, *, actor: str
) -> None:
    if kind not in KINDS:
        raise MappingError(f"Choose a kind: {', '.join(KINDS)}.")
    with database.session() as session:
        row = _issue_type_row(session, client, mapping_id)
        before, row.kind = row.kind, kind
        audit.note(session, actor, "flow.issue_type.edit", {"kind": kind, "was": before})


def unmap_issue_type(database: Database, client: str, mapping_id: int, *, actor: str) -> str:
    """Delete an issue type mapping; returns the type's name (the operator is told)."""
    with database.session() as session:
        row = _issue_type_row(session, client, mapping_id)
        session.delete(row)
        audit.note(session, actor, "flow.issue_type.unmap")
        return row.issue_type


def step_impact(database: Database, client: str, step_id: int) -> StepImpact:
    """What deleting a step touches: its mappings and the work items in its statuses."""
    with database.session() as session:
        step = _step(session, _client(session, client) or 0, step_id)
        if step is None:
            raise MappingError("That flow step no longer exists.")
        names = select(func.lower(StatusMapping.status_name)).where(
            StatusMapping.flow_step_id == step_id
        )
        mappings = session.execute(
            select(func.count()).where(StatusMapping.flow_step_id == step_id)
        ).scalar_one()
        items = session.execute(
            select(func.count()).where(
                WorkItem.client_id == step.client_id, func.lower(WorkItem.status).in_(names)
            )
        ).scalar_one()
        return StepImpact(step.name, int(mappings), int(items))


def delete_step(
    database: Database, client: str, step_id: int, reassign_to: int | None, *, actor: str
) -> int:
    """Move the step's mappings to `reassign_to` (or drop them when None), then delete it.

    One transaction: either everything moves and the step is gone, or nothing changed.
    Refused, changing nothing, when either step is not the client's, or the target is the
    step itself or switched off. None is the operator's explicit "drop its mappings" (the
    console asks and confirms it). Returns how many mappings moved or were dropped.
    """
    if reassign_to == step_id:
        raise MappingError("Reassign to a different step than the one being deleted.")
    with database.session() as session:
        cid = _client(session, client) or 0
        step = _step(session, cid, step_id)
        if step is None:
            raise MappingError("That flow step no longer exists.")
        if reassign_to is not None:
            target = _step(session, cid, reassign_to)
            if target is None:
                raise MappingError("The step to reassign to no longer exists.")
            if not target.active:
                raise MappingError(f"Step {target.name!r} is switched off; choose an active one.")
            moved = _rowcount(
                session.execute(
                    update(StatusMapping)
                    .where(StatusMapping.flow_step_id == step_id)
                    .values(flow_step_id=reassign_to)
                )
            )
        else:
            moved = _rowcount(
                session.execute(delete(StatusMapping).where(StatusMapping.flow_step_id == step_id))
            )
        session.delete(step)
        audit.note(
            session, actor, "flow.step.delete", {"reassigned_to": reassign_to, "mappings": moved}
        )
        return moved


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def validation_problems(database: Database, client: str) -> list[str]:
    """Every seen status mapped, no step without a category, no step left empty."""
    data = load(database, client)
    problems = [
        f"Status {u.status!r} ({u.issues} issues) is not mapped to a flow step."
        for u in data.unmapped
    ]
    problems += [
        f"Step {s.name!r} has no valid category."
        for s in data.steps
        if s.category not in CATEGORIES
    ]
    if not data.steps:
        problems.append("No flow steps yet: add To Do, In Progress and Done steps.")
    return problems
