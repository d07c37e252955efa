"""Flow mappings: steps, status mappings, issue-type mappings and unmapped statuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, TabbedContent, TabPane

from pulse_console.services import flow_mappings as flow
from pulse_console.services.flow_mappings import FlowMappings
from pulse_console.tui.dialogs.choose import ChooseDialog
from pulse_console.tui.dialogs.confirm import ConfirmDialog
from pulse_console.tui.dialogs.prompt import PromptDialog
from pulse_console.tui.dialogs.text_view import TextViewDialog
from pulse_console.tui.keymap import bindings_for
from pulse_console.tui.messages import Done
from pulse_console.tui.screens.list_screen import ListScreen

TABS = ("unmapped", "steps", "statuses", "types")


FLOW_COLUMNS: dict[str, tuple[tuple[str, int], ...]] = {
    "unmapped": (("Status", 28), ("Issues", 8)),
    "steps": (("#", 3), ("Step", 22), ("Category", 12), ("Mappings", 8), ("State", 8)),
    "statuses": (("Status", 24), ("Issue type", 16), ("→ Step", 22)),
    "types": (("Issue type", 24), ("Kind", 12)),
}


class FlowScreen(ListScreen[FlowMappings]):
    SCOPE: ClassVar[str] = "flow"
    CSS_PATH = "flow.tcss"
    # With the tab bar focused (as on arrival), Up/Down and Enter still reach the rows.
    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings_for("flow"),
        Binding("up", "row(-1)", "Up", show=False),
        Binding("down", "row(1)", "Down", show=False),
        Binding("enter", "choose_row", "Choose", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(FlowMappings([], [], [], []))

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            with TabPane("Unmapped", id="unmapped"):
                yield DataTable(id="t-unmapped", cursor_type="row")
            with TabPane("Steps", id="steps"):
                yield DataTable(id="t-steps", cursor_type="row")
            with TabPane("Status mappings", id="statuses"):
                yield DataTable(id="t-statuses", cursor_type="row")
            with TabPane("Issue types", id="types"):
                yield DataTable(id="t-types", cursor_type="row")

    def on_mount(self) -> None:
        # Fixed widths (auto widths followed the moment rows arrived); all fit 80 columns.
        for name, columns in FLOW_COLUMNS.items():
            table = self._table(name)
            for label, width in columns:
                table.add_column(label, width=width)

    def _table(self, tab: str) -> DataTable[str | Text]:
        return self.query_one(f"#t-{tab}", DataTable)

    @property
    def tab(self) -> str:
        return self.query_one(TabbedContent).active or "unmapped"

    def fetch(self) -> FlowMappings:
        return self.ctx.services.flow.load()

    def redraw(self) -> None:
        d = self.data
        t = self._table("unmapped")
        t.clear()
        for u in d.unmapped:
            if self.matches(u.status):
                t.add_row(Text(u.status, style="yellow"), f"{u.issues:,}", key=u.status)
        t = self._table("steps")
        t.clear()
        for s in d.steps:
            if self.matches(s.name, s.category):
                t.add_row(
                    str(s.position),
                    s.name,
                    flow.CATEGORY_LABEL.get(s.category, "?"),
                    str(s.mappings),
                    "active" if s.active else "inactive",
                    key=str(s.id),
                )
        t = self._table("statuses")
        t.clear()
        for m in d.status_mappings:
            if self.matches(m.status_name, m.step, m.issue_type or ""):
                t.add_row(m.status_name, m.issue_type or "any", m.step, key=str(m.id))
        t = self._table("types")
        t.clear()
        for it in d.issue_types:
            if self.matches(it.issue_type, it.kind):
                t.add_row(it.issue_type, it.kind, key=str(it.id))
        unmapped = sum(u.issues for u in d.unmapped)
        if d.unmapped:
            self.status(
                f"{len(d.unmapped)} unmapped status(es) on {unmapped:,} issues: "
                "select one and press m to map it"
            )
        elif not d.steps:
            self.status("No flow steps yet: Steps tab, a to add (To Do / In Progress / Done).")
        else:
            self.status(
                f"{len(d.steps)} step(s) · {len(d.status_mappings)} mapping(s) · "
                "every seen status is mapped"
            )

    def _key(self, tab: str) -> str | None:
        return self.cursor_key(self._table(tab))

    def disabled_reason(self, action: str) -> str | None:
        if action == "map" and not self.data.unmapped:
            return "every seen status is mapped"
        if (
            action in {"map", "add"}
            and self.tab in {"unmapped", "statuses"}
            and not self.data.steps
        ):
            return "add a flow step first (Steps tab)"
        if action == "delete" and self.tab == "unmapped":
            return "unmapped statuses are not rows to delete"
        if action == "edit" and self.tab not in {"statuses", "types"}:
            return "choose a status or issue type mapping to edit"
        if action in {"edit", "delete"} and self._key(self.tab) is None:
            return "nothing selected"
        return None

    def _steps_choice(
        self,
        title: str,
        then: Callable[[int], object],
        exclude: int | None = None,
        extra: list[tuple[str, str]] | None = None,
    ) -> None:
        options = [
            (str(s.id), f"{s.name}  ({flow.CATEGORY_LABEL.get(s.category, '?')})")
            for s in self.data.steps
            if s.id != exclude
        ]

        def chosen(key: str | None) -> None:
            if key is not None:
                then(int(key))

        self.app.push_screen(ChooseDialog(title, options + (extra or [])), chosen)

    def _guard(self, action: str) -> bool:
        reason = self.disabled_reason(action)
        if reason:
            self.notify(reason.capitalize() + ".", severity="warning")
        return reason is None

    def action_map(self) -> None:
        if not self._guard("map"):
            return
        status = self._key("unmapped") if self.tab == "unmapped" else None
        status = status or self.data.unmapped[0].status
        self._steps_choice(f"Map “{status}” to…", lambda step: self._cmd("map", status, step))

    def action_add(self) -> None:
        if not self._guard("add"):
            return
        tab = self.tab
        if tab == "steps":

            def named(name: str | None) -> None:
                if not name:
                    return

                def category(cat: str | None) -> None:
                    if cat:
                        self._cmd("step", name, cat)

                self.app.push_screen(
                    ChooseDialog(
                        f"Category of “{name}”",
                        [(c, flow.CATEGORY_LABEL[c]) for c in flow.CATEGORIES],
                        filterable=False,
                    ),
                    category,
                )

            self.app.push_screen(
                PromptDialog(
                    "New flow step",
                    "e.g. In Review",
                    check=lambda v: None if v else "A name, please.",
                ),
                named,
            )
        elif tab == "types":

            def typed(name: str | None) -> None:
                if not name:
                    return

                def kind(k: str | None) -> None:
                    if k:
                        self._cmd("type", name, k)

                self.app.push_screen(
                    ChooseDialog(
                        f"Kind of “{name}”", [(k, k) for k in flow.KINDS], filterable=False
                    ),
                    kind,
                )

            self.app.push_screen(PromptDialog("Map an issue type", "e.g. Incident"), typed)
        else:

            def status_named(name: str | None) -> None:
                if name:
                    self._steps_choice(
                        f"Map “{name}” to…", lambda step: self._cmd("map", name, step)
                    )

            self.app.push_screen(
                PromptDialog("Map a status", "Matched case-insensitively"), status_named
            )

    def action_delete(self) -> None:
        if not self._guard("delete"):
            return
        tab, key = self.tab, self._key(self.tab)
        if key is None:
            return
        if tab == "steps":
            self._impact(int(key))
        else:
            self._mapping_impact(tab, int(key), "delete")

    def action_edit(self) -> None:
        if not self._guard("edit"):
            return
        key = self._key(self.tab)
        if key is not None:
            self._mapping_impact(self.tab, int(key), "edit")

    def action_row(self, step: int) -> None:
        table = self._table(self.tab)
        if step < 0:
            table.action_cursor_up()
        else:
            table.action_cursor_down()

    @on(DataTable.RowSelected)
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_choose_row()

    def action_choose_row(self) -> None:
        # Enter on a row does what its tab is for: map an unmapped status, edit a mapping.
        if self.tab == "unmapped":
            self.action_map()
        elif self.tab in {"statuses", "types"}:
            self.action_edit()

    @work(thread=True, exclusive=True, exit_on_error=False, group="flow-impact")
    def _mapping_impact(self, tab: str, mapping_id: int, then: str) -> None:
        service = self.ctx.services.flow
        if tab == "types":
            impact = service.issue_type_impact(mapping_id)
        else:
            impact = service.status_mapping_impact(mapping_id)
        ask = self._ask_delete if then == "delete" else self._ask_edit
        self.app.call_from_thread(ask, tab, mapping_id, impact)

    def _ask_edit(self, tab: str, mapping_id: int, impact: flow.MappingImpact) -> None:
        told = f"“{impact.mapping}”: {impact.work_items:,} work item(s)."
        if tab == "statuses":
            self._steps_choice(f"{told} Map to…", lambda step: self._cmd("remap", mapping_id, step))
            return

        def kind(k: str | None) -> None:
            if k:
                self._cmd("kind", mapping_id, k)

        note = f" {impact.note}" if impact.note else ""
        self.app.push_screen(
            ChooseDialog(f"{told}{note} Kind…", [(k, k) for k in flow.KINDS], filterable=False),
            kind,
        )

    def _ask_delete(self, tab: str, mapping_id: int, impact: flow.MappingImpact) -> None:
        if tab == "statuses":
            title = f"Delete the status mapping “{impact.mapping}”?"
            body = (
                f"{impact.work_items:,} work item(s) in this status show as unmapped "
                "until it is mapped again."
            )
            self._confirm_then(title, body, lambda: self._cmd("unmap", mapping_id))
            return
        title = f"Delete the issue type mapping “{impact.mapping}”?"
        body = f"{impact.work_items:,} work item(s) of this type lose their kind."
        if impact.note:
            body += f" {impact.note}"
        self._confirm_then(title, body, lambda: self._cmd("unmap_type", mapping_id))

    def _confirm_then(self, title: str, body: str, then: Callable[[], object]) -> None:
        def answer(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmDialog(title, body, confirm="Delete", danger=True), answer)

    @work(thread=True, exclusive=True, exit_on_error=False, group="flow-impact")
    def _impact(self, step_id: int) -> None:
        impact = self.ctx.services.flow.step_impact(step_id)
        self.app.call_from_thread(self._ask_reassign, step_id, impact)

    def _ask_reassign(self, step_id: int, impact: flow.StepImpact) -> None:
        def target(key: int) -> None:
            goal = None if key == -1 else key
            where = "dropped" if goal is None else "moved"
            self._confirm_then(
                f"Delete step “{impact.step}”?",
                f"{impact.mappings} mapping(s) covering {impact.work_items:,} work item(s) "
                f"will be {where}, in one transaction with the delete.",
                lambda: self._cmd("delete", step_id, goal),
            )

        self._steps_choice(
            f"“{impact.step}”: {impact.mappings} mapping(s), {impact.work_items:,} item(s). "
            "Reassign to…",
            target,
            exclude=step_id,
            extra=[("-1", "(drop its mappings)")],
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="flow-cmd")
    def _cmd(self, what: str, *args: object) -> None:
        service = self.ctx.services.flow
        if what == "map":
            service.map_status(str(args[0]), int(str(args[1])))
            text = f"Mapped {args[0]}"
        elif what == "unmap":
            service.unmap_status(int(str(args[0])))
            text = "Mapping removed"
        elif what == "step":
            service.add_step(str(args[0]), str(args[1]))
            text = f"Added step {args[0]}"
        elif what == "type":
            service.map_issue_type(str(args[0]), str(args[1]))
            text = f"Mapped issue type {args[0]}"
        elif what == "remap":
            service.remap_status(int(str(args[0])), int(str(args[1])))
            text = "Status mapping changed"
        elif what == "kind":
            service.set_issue_type_kind(int(str(args[0])), str(args[1]))
            text = f"Issue type mapping changed to {args[1]}"
        elif what == "unmap_type":
            name = service.unmap_issue_type(int(str(args[0])))
            text = f"Issue type mapping {name} removed"
        elif what == "delete":
            goal = args[1]
            moved = service.delete_step(int(str(args[0])), None if goal is None else int(str(goal)))
            target = next((st.name for st in self.data.steps if st.id == goal), None)
            # Say what happened: the operator chose between moving and dropping.
            outcome = f"reassigned to {target}" if target else "dropped"
            text = f"Step deleted; {moved} mapping(s) {outcome}"
        else:
            return
        self.post_message(Done(text))

    def action_validate(self) -> None:
        self._validate()

    @work(thread=True, exclusive=True, exit_on_error=False, group="flow-validate")
    def _validate(self) -> None:
        problems = self.ctx.services.flow.validation_problems()
        body = "\n".join(f"• {p}" for p in problems) or "✔ Every seen status is mapped."
        self.app.call_from_thread(self.app.push_screen, TextViewDialog("Flow mapping check", body))

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()
