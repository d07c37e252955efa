"""Add/edit an integration: per-field validation, masked token, test before save.

Returns the validated `IntegrationDraft` (or None on escape); the caller saves it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from connectors.base import ConnectionCheck
from pulse_console.services.integrations import (
    TYPES,
    IntegrationDraft,
    IntegrationView,
    Tester,
    validate,
)

FIELDS = ("name", "type", "base_url", "email", "token")


class IntegrationForm(ModalScreen[IntegrationDraft | None]):
    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(
        self,
        existing: IntegrationView | None,
        tester: Tester,
        stored_token: Callable[[], str | None],
    ) -> None:
        super().__init__()
        self.existing = existing
        self.tester = tester
        self.stored_token = stored_token
        self.tested_ok_for: IntegrationDraft | None = None

    def compose(self) -> ComposeResult:
        e = self.existing
        with VerticalScroll(classes="dialog"):
            yield Label("Edit integration" if e else "Add integration", classes="title")
            yield Input(e.name if e else "", placeholder="name, e.g. jira-main", id="name")
            yield Static("", id="name-error", classes="error")
            yield Select(
                [(t, t) for t in TYPES], value=e.type if e else "jira", id="type", allow_blank=False
            )
            yield Static("", id="type-error", classes="error")
            yield Input(
                e.base_url if e else "", placeholder="https://acme.atlassian.net", id="base_url"
            )
            yield Static("", id="base_url-error", classes="error")
            yield Input(e.email or "" if e else "", placeholder="e-mail (Jira Cloud)", id="email")
            yield Static("", id="email-error", classes="error")
            placeholder = "•••••••• stored — type to replace" if e and e.has_token else "API token"
            yield Input("", placeholder=placeholder, password=True, id="token")
            yield Static("", id="token-error", classes="error")
            yield Static("", id="check", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Test", id="test")
                yield Button("Test & save", id="save", variant="primary")

    def draft(self) -> IntegrationDraft:
        token = self.query_one("#token", Input).value
        kind = self.query_one("#type", Select).value
        return IntegrationDraft(
            name=self.query_one("#name", Input).value.strip(),
            type=str(kind),
            base_url=self.query_one("#base_url", Input).value.strip(),
            email=self.query_one("#email", Input).value.strip(),
            token=token or None,
            existing_id=self.existing.id if self.existing else None,
        )

    def _show_errors(self, errors: dict[str, str]) -> bool:
        for name in FIELDS:
            self.query_one(f"#{name}-error", Static).update(errors.get(name, ""))
        return not errors

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#test")
    def _test(self) -> None:
        draft = self.draft()
        if self._show_errors(validate(draft)):
            self._run_test(draft, save=False)

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        draft = self.draft()
        if not self._show_errors(validate(draft)):
            return
        if self.tested_ok_for == draft or self.query_one("#save", Button).label == "Save anyway":
            self.dismiss(draft)
        else:
            self._run_test(draft, save=True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="integration-test")
    def _run_test(self, draft: IntegrationDraft, save: bool) -> None:
        self.app.call_from_thread(self._checking)
        token = draft.token or self.stored_token() or ""
        check = self.tester(draft, token)
        self.app.call_from_thread(self._checked, draft, check, save)

    def _checking(self) -> None:
        self.query_one("#check", Static).update("Testing the connection…")

    def _checked(self, draft: IntegrationDraft, check: ConnectionCheck, save: bool) -> None:
        mark = "✔ OK" if check.ok else "✖ FAILED"
        self.query_one("#check", Static).update(f"{mark}: {check.message}")
        if check.ok:
            self.tested_ok_for = draft
            if save:
                self.dismiss(draft)
        else:
            self.query_one("#save", Button).label = "Save anyway"
