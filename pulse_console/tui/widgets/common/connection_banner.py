"""The header-area banner of a lost database connection (hidden while it is reachable)."""

from __future__ import annotations

from textual.widgets import Static

LOST = "⚠ Database connection lost: reconnecting…  Data on screen may be stale."


class ConnectionBanner(Static):
    DEFAULT_CSS = """
    ConnectionBanner {
        height: 1; padding: 0 1; display: none;
        background: $error; color: $text; text-style: bold;
    }
    ConnectionBanner.-lost { display: block; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(LOST, **kwargs)  # type: ignore[arg-type]

    def show(self, lost: bool) -> None:
        self.set_class(lost, "-lost")
