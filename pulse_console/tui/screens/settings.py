"""Settings: orchestrator interval, fast retry, log retention, theme — saved and audited."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.widgets import Input, Label, Select, Static, Switch

from pulse_console.services.settings import THEMES, ConsoleSettings, SettingsInvalid
from pulse_console.tui.messages import Done, SettingsLoaded
from pulse_console.tui.screens.base import PulseScreen

NUMBERS = {
    "orchestrator_interval_minutes": "Orchestrator interval (minutes)",
    "retry_interval_minutes": "Fast-retry interval (minutes)",
    "retry_max_attempts": "Fast-retry attempts",
    "log_retention_days": "Log retention (days)",
}


class SettingsScreen(PulseScreen):
    SCOPE: ClassVar[str] = "settings"
    CSS_PATH = "settings.tcss"

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="form"), Grid(id="grid"):
            for name, label in NUMBERS.items():
                yield Label(label)
                yield Input(id=name, type="integer")
                yield Static("", id=f"{name}-error", classes="error")
            yield Label("Fast retry enabled")
            yield Switch(id="retry_enabled", animate=False)
            yield Static("")
            yield Label("Theme")
            yield Select([(t, t) for t in THEMES], id="theme", allow_blank=False)
            yield Static("", id="theme-error", classes="error")

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings-load")
    def _load(self) -> None:
        self.post_message(SettingsLoaded(self.ctx.services.settings.load()))

    def on_settings_loaded(self, message: SettingsLoaded) -> None:
        message.stop()
        s = message.settings
        for name in NUMBERS:
            self.query_one(f"#{name}", Input).value = str(getattr(s, name))
        self.query_one("#retry_enabled", Switch).value = s.retry_enabled
        self.query_one("#theme", Select).value = s.theme
        self.status("Edit and press ctrl+s to save; changes are audited.")

    def _form(self) -> ConsoleSettings | None:
        values: dict[str, object] = {}
        bad = False
        for name in NUMBERS:
            raw = self.query_one(f"#{name}", Input).value.strip()
            error = self.query_one(f"#{name}-error", Static)
            if not raw.lstrip("-").isdigit():
                error.update("A whole number.")
                bad = True
            else:
                error.update("")
                values[name] = int(raw)
        if bad:
            return None
        return ConsoleSettings(
            orchestrator_interval_minutes=int(str(values["orchestrator_interval_minutes"])),
            retry_enabled=self.query_one("#retry_enabled", Switch).value,
            retry_interval_minutes=int(str(values["retry_interval_minutes"])),
            retry_max_attempts=int(str(values["retry_max_attempts"])),
            log_retention_days=int(str(values["log_retention_days"])),
            theme=str(self.query_one("#theme", Select).value),
        )

    def action_save(self) -> None:
        new = self._form()
        if new is None:
            return
        problems = new.problems()
        for name in [*NUMBERS, "theme"]:
            self.query_one(f"#{name}-error", Static).update(problems.get(name, ""))
        if not problems:
            self._save(new)

    @work(thread=True, exclusive=True, exit_on_error=False, group="settings-save")
    def _save(self, new: ConsoleSettings) -> None:
        try:
            changed = self.ctx.services.settings.save(new)
        except SettingsInvalid as exc:
            self.post_message(Done(str(exc), refresh=False))
            return
        self.post_message(
            Done(
                f"Saved: {', '.join(changed)}" if changed else "Nothing changed", payload=new.theme
            )
        )

    def on_done(self, message: Done) -> None:
        self.notify(message.text)
        if isinstance(message.payload, str):
            self.pulse.apply_theme(message.payload)
