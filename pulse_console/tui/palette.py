"""Command palette provider: the same command table as keys and help, plus "go to" screens."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from pulse_console.tui.keymap import APP, SCREENS, commands_for, key_label
from pulse_console.tui.screens.base import PulseScreen
from pulse_console.tui.shell import ConsoleShell


class PulseCommands(Provider):
    """Every action of the current screen and every screen by name."""

    def _entries(self) -> list[tuple[str, str, object]]:
        app = self.app
        assert isinstance(app, ConsoleShell)
        screen = self.screen
        entries: list[tuple[str, str, object]] = []
        for name, title in SCREENS.items():
            entries.append((f"Go to {title}", f":{name}", partial(app.switch_to, name)))
        scope = str(getattr(screen, "SCOPE", APP))  # a console screen or a dialog with keys
        for command in commands_for(scope) + commands_for(APP):
            if not command.palette:
                continue
            refused, reason = None, None
            if isinstance(screen, PulseScreen):
                refused = screen.role_reason(command.action)
                reason = refused or screen.disabled_reason(command.action)
            help_text = f"{key_label(command.key)} · {command.help}"
            if reason:
                help_text += f" — unavailable: {reason}"
            target = screen if command.scope != APP else app
            run: object = partial(target.run_action, command.action)
            if refused:  # the role rule: say why, never run it
                run = partial(screen.notify, f"{command.title}: {refused}.", severity="warning")
            entries.append((command.title, help_text, run))
        return entries

    async def discover(self) -> Hits:
        for title, help_text, run in self._entries():
            yield DiscoveryHit(title, run, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._entries():
            score = matcher.match(f"{title} {help_text}")
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)  # type: ignore[arg-type]
