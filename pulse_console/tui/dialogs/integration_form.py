"""Add/edit an integration: labelled per-type fields, masked token, test before save.

The per-type fields come from `services.integration_fields.FORMS` (the same settings as
`integration add <type>`); each type's fields are composed once and only the chosen type's are
shown. Returns a `FormResult` (or None on escape); the caller saves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from connectors.base import ConnectionCheck
from pulse_console.services.integration_fields import (
    FORMS,
    FormValue,
    TypeField,
    form_types,
    form_values,
    to_config,
)
from pulse_console.services.integrations import (
    IntegrationDraft,
    IntegrationView,
    Tester,
    validate,
)
from pulse_console.tui.keymap import bindings_for
from pulse_console.tui.widgets.common.console_footer import ConsoleFooter

COMMON = ("name", "type", "base_url", "token")
SAVE = "Test & save"


@dataclass(frozen=True)
class FormResult:
    """The draft to save and, when the form tested exactly this draft, the outcome."""

    draft: IntegrationDraft
    check: ConnectionCheck | None = None


class IntegrationForm(ModalScreen[FormResult | None]):
    """ctrl+s saves from any field (footer and palette, `form.save` in the keymap); Enter in
    a text field moves to the next text field (Tab walks every control, choices included)."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    SCOPE: ClassVar[str] = "integration_form"
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"), *bindings_for(SCOPE)]

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
        self.last_check: tuple[IntegrationDraft, ConnectionCheck] | None = None

    def compose(self) -> ComposeResult:
        e = self.existing
        offered = form_types()
        kind = e.type if e and e.type in offered else offered[0]
        with VerticalScroll(classes="dialog integration-form"):
            yield Label("Edit integration" if e else "Add integration", classes="title")
            yield from _labelled(
                "Name", Input(e.name if e else "", placeholder="jira-main", id="name")
            )
            yield from _labelled(
                "Type",
                Select(
                    [(f"{t} — {FORMS[t].label}", t) for t in offered],
                    value=kind,
                    id="type",
                    allow_blank=False,
                ),
            )
            base_url = e.base_url if e else FORMS[kind].base_url_default
            yield from _labelled(
                "Base URL",
                Input(base_url, placeholder=FORMS[kind].base_url_hint, id="base_url"),
            )
            for t in offered:
                values = form_values(t, e.config if e and e.type == t else {})
                with Vertical(id=f"fields-{t}", classes="type-fields") as box:
                    box.display = t == kind
                    for spec in FORMS[t].fields:
                        yield from _field(t, spec, values[spec.key])
            stored = e is not None and e.has_token
            hint = "•••••••• stored — type to replace" if stored else FORMS[kind].token_hint
            yield from _labelled("Token", Input("", placeholder=hint, password=True, id="token"))
            yield Static("", id="check", classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Test", id="test")
                yield Button(SAVE, id="save", variant="primary")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        # Typing right after `a` must land in the first field.
        self.query_one("#name", Input).focus()

    @property
    def kind(self) -> str:
        return str(self.query_one("#type", Select).value)

    @on(Select.Changed, "#type")
    def _type_changed(self, event: Select.Changed) -> None:
        kind = str(event.value)
        for box in self.query(".type-fields"):
            box.display = box.id == f"fields-{kind}"
        base_url = self.query_one("#base_url", Input)
        base_url.placeholder = FORMS[kind].base_url_hint
        if not base_url.value or base_url.value in {f.base_url_default for f in FORMS.values()}:
            base_url.value = FORMS[kind].base_url_default
        if not (self.existing and self.existing.has_token):
            self.query_one("#token", Input).placeholder = FORMS[kind].token_hint

    def _values(self, kind: str) -> dict[str, FormValue]:
        values: dict[str, FormValue] = {}
        for spec in FORMS[kind].fields:
            widget = self.query_one(f"#{kind}-{spec.key}")
            if isinstance(widget, Checkbox):
                values[spec.key] = widget.value
            elif isinstance(widget, Select):
                values[spec.key] = str(widget.value)
            elif isinstance(widget, Input):
                values[spec.key] = widget.value
        return values

    def draft(self) -> IntegrationDraft:
        kind = self.kind
        values = self._values(kind)
        token = self.query_one("#token", Input).value.strip()
        return IntegrationDraft(
            name=self.query_one("#name", Input).value.strip(),
            type=kind,
            base_url=self.query_one("#base_url", Input).value.strip(),
            email=str(values.get("email", "")).strip(),
            token=token or None,
            existing_id=self.existing.id if self.existing else None,
            config=to_config(kind, values),
        )

    def _show_errors(self, errors: dict[str, str]) -> bool:
        kind = self.kind
        shown = {
            **{name: name for name in COMMON},
            **{s.key: f"{kind}-{s.key}" for s in FORMS[kind].fields},
        }
        for key, ident in shown.items():
            error = self.query_one(f"#{ident}-error", Static)
            error.update(errors.get(key, ""))
            error.display = key in errors  # an empty line per field would double the form
        return not errors

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#test")
    def _test(self) -> None:
        draft = self.draft()
        if self._show_errors(validate(draft)):
            self._run_test(draft, save=False)

    @on(Input.Submitted)
    def _next_text_field(self, event: Input.Submitted) -> None:
        event.stop()
        fields = [w for w in self.focus_chain if isinstance(w, Input)]
        if event.input in fields[:-1]:
            fields[fields.index(event.input) + 1].focus()

    def action_save(self) -> None:
        """ctrl+s: what the save button does now (test & save, save, or save anyway)."""
        self._save()

    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        draft = self.draft()
        if not self._show_errors(validate(draft)):
            return
        tested = self.last_check[1] if self.last_check and self.last_check[0] == draft else None
        if (tested is not None and tested.ok) or self.query_one("#save", Button).label == (
            "Save anyway"
        ):
            self.dismiss(FormResult(draft, tested))
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
        self.last_check = (draft, check)
        # The button says what pressing it now does: save a tested draft, or save anyway.
        self.query_one("#save", Button).label = "Save" if check.ok else "Save anyway"
        if check.ok and save:
            self.dismiss(FormResult(draft, check))


def _labelled(label: str, widget: Widget) -> Iterator[Widget]:
    yield Label(label, classes="field-label")
    yield widget
    yield Static("", id=f"{widget.id}-error", classes="error field-error")


def _field(kind: str, spec: TypeField, value: FormValue) -> Iterator[Widget]:
    ident = f"{kind}-{spec.key}"
    if spec.kind == "flag":
        yield Checkbox(spec.label, value=value is True, id=ident)
        yield Static("", id=f"{ident}-error", classes="error field-error")
    elif spec.kind == "choice":
        options = [(c, c) for c in spec.choices]
        yield from _labelled(spec.label, Select(options, value=value, id=ident, allow_blank=False))
    else:
        number = spec.kind == "number"
        typed = Input(
            str(value), placeholder=spec.hint, type="integer" if number else "text", id=ident
        )
        yield from _labelled(spec.label, typed)
