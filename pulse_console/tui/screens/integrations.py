"""Integrations: list with last test/sync; add/edit form, test connection, (de)activate."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable

from pulse_console.services.integrations import IntegrationView
from pulse_console.tui.dialogs.confirm import ConfirmDialog
from pulse_console.tui.dialogs.integration_form import FormResult, IntegrationForm
from pulse_console.tui.format import short_when, status, when
from pulse_console.tui.messages import Done
from pulse_console.tui.screens.list_screen import ListScreen
from pulse_console.tui.widgets.common.columns import Column, ColumnSets

# 80 columns: the base URL and last sync only in the form (Enter); short test dates.
INTEGRATION_COLUMNS = ColumnSets(
    wide=(
        Column("name", "Name", 16),
        Column("type", "Type", 16),
        Column("token", "Token", 7),
        Column("test", "Last test", 21),
        Column("sync", "Last sync", 16),
        Column("state", "State", 8),
        Column("url", "Base URL", None),
    ),
    narrow=(
        Column("name", "Name", 16),
        Column("type", "Type", 16),
        Column("token", "Token", 7),
        Column("test_short", "Last test", 16),
        Column("state", "State", 8),
    ),
)


class IntegrationsScreen(ListScreen[list[IntegrationView]]):
    SCOPE: ClassVar[str] = "integrations"
    BUSY: ClassVar[bool] = True
    COLUMNS = ("#integrations", INTEGRATION_COLUMNS)

    def __init__(self) -> None:
        super().__init__([])

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="integrations", cursor_type="row", zebra_stripes=True)

    def fetch(self) -> list[IntegrationView]:
        return self.ctx.services.integrations.list_integrations()

    def redraw(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for item in self.data:
            if not self.matches(item.name, item.type, item.base_url):
                continue
            if item.last_test_ok is None:
                test: Text = Text("never", style="dim")
                test_short = test
            else:
                test = status("OK" if item.last_test_ok else "FAIL")
                test_short = test + f" {short_when(item.last_test_at)}"
                test.append(f" {when(item.last_test_at)}")
            cells = {
                "name": item.name,
                "type": item.type
                + (f" ({item.repositories} repos)" if item.type == "github" else ""),
                "url": item.base_url,
                "token": "stored" if item.has_token else Text("missing", style="bold red"),
                "test": test,
                "test_short": test_short,
                "sync": when(item.last_sync_at),
                "state": "active" if item.active else Text("inactive", style="dim"),
            }
            INTEGRATION_COLUMNS.row(table, cells, key=str(item.id))
        if not self.data:
            self.status("No integrations yet: press a to add one (Jira, GitHub, …).")
        else:
            current = self._current()
            detail = ""
            if current is not None and current.last_test_message:
                detail = f" · {current.name}: {current.last_test_message}"
            self.status(f"{len(self.data)} integration(s){detail}")

    def _current(self) -> IntegrationView | None:
        key = self.cursor_key(self.query_one(DataTable))
        return next((i for i in self.data if str(i.id) == key), None)

    def disabled_reason(self, action: str) -> str | None:
        if action in {"edit", "test", "toggle_active"} and not self.data:
            return "no integration selected"
        return None

    @on(DataTable.RowSelected)
    def _row(self) -> None:
        self.action_edit()

    def action_add(self) -> None:
        self._form(None)

    def action_edit(self) -> None:
        current = self._current()
        if current is not None:
            self._form(current)

    def _form(self, existing: IntegrationView | None) -> None:
        ctx = self.ctx

        def stored() -> str | None:
            if existing is None:
                return None
            return ctx.services.integrations.stored_token(existing.name)

        def saved(result: FormResult | None) -> None:
            if result is not None:
                self._save(result)

        self.app.push_screen(IntegrationForm(existing, ctx.tester, stored), saved)

    @work(thread=True, exclusive=True, exit_on_error=False, group="integration-cmd")
    def _save(self, result: FormResult) -> None:
        self.ctx.services.integrations.save(result.draft, result.check)
        self.post_message(Done(f"Saved integration {result.draft.name}"))

    def action_test(self) -> None:
        current = self._current()
        if current is not None:
            self._test(current.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="integration-cmd")
    def _test(self, integration_id: int) -> None:
        check = self.ctx.services.integrations.check_saved(integration_id)
        self.post_message(Done(("OK: " if check.ok else "FAILED: ") + check.message))

    def action_toggle_active(self) -> None:
        current = self._current()
        if current is None:
            return
        if not current.active:
            self._set_active(current.id, True)
            return

        def answer(yes: bool | None) -> None:
            if yes and current is not None:
                self._set_active(current.id, False)

        self.app.push_screen(
            ConfirmDialog(
                f"Deactivate {current.name}?",
                "Its sync job stops being scheduled; data already loaded stays. "
                "Press d again to reactivate.",
                confirm="Deactivate",
                danger=True,
            ),
            answer,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="integration-cmd")
    def _set_active(self, integration_id: int, active: bool) -> None:
        self.ctx.services.integrations.set_active(integration_id, active)
        self.post_message(Done("Reactivated" if active else "Deactivated"))
