"""The footer: only whole key hints, the secondary ones given up first when narrow.

Textual's footer lays every hint in a row and cuts the last one it has no room for
("o Pa▏"). This one shows as many whole hints as fit before the command-palette hint, in
their order, dropping the screen's `secondary` commands (keymap.py) first and then the
rightmost, but never `? Help`: it lists every key, so nothing becomes unreachable.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from pulse_console.tui.keymap import APP, commands_for

KEPT = "help"  # the action whose hint stays however narrow the footer


class ConsoleFooter(Footer):
    def compose(self) -> ComposeResult:
        yield from super().compose()
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        self.fit()

    def _secondary_actions(self) -> set[str]:
        scope = str(getattr(self.screen, "SCOPE", APP))
        return {c.action for c in commands_for(scope) + commands_for(APP) if c.secondary}

    def fit(self) -> None:
        """Show the hints that fit whole; the others are hidden (see the module doc)."""
        keys = [k for k in self.query(FooterKey) if not k.has_class("-command-palette")]
        palette = sum(k.render().cell_len for k in self.query(FooterKey) if k not in keys)
        room = self.size.width - palette - (1 if palette else 0)  # the palette's bar
        if room <= 0 or not keys:
            return
        widths = {key: key.render().cell_len for key in keys}
        shown = list(keys)
        secondary = self._secondary_actions()
        while sum(widths[k] for k in shown) > room:
            droppable = [k for k in shown if k.action != KEPT]
            if not droppable:
                break
            dropped = next((k for k in reversed(droppable) if k.action in secondary), None)
            shown.remove(dropped or droppable[-1])
        for key in keys:
            key.display = key in shown
