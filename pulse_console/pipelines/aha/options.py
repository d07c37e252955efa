"""What an Aha! integration's `config` (jsonb) may say, with defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.aha import MAX_PER_PAGE
from pulse_console.pipelines.base import IntegrationRef

MAX_WINDOWS = 16


class AhaConfigError(ValueError):
    """The integration's configuration cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class AhaSyncOptions:
    """Tunables of one Aha! integration (all optional).

    ``products``: product ids or reference prefixes to sync (empty: every product the key
    can see). ``page_size``: records per list call (Aha! allows at most 200).
    ``overlap_minutes``: how far before the last run's start an incremental run asks
    ``updated_since`` from (our clock is not Aha!'s). ``reconcile``: after each run, list
    every record id (``fields=id``) to deactivate deleted records. ``windows``: products
    read at once (1-16), every request within the account's one rate gate (Aha!'s 20 a
    second and 300 a minute: connectors/aha/client.py `aha_gate`).
    """

    products: tuple[str, ...] = ()
    page_size: int = MAX_PER_PAGE
    overlap_minutes: int = 5
    reconcile: bool = True
    windows: int = 4

    @classmethod
    def from_integration(cls, ref: IntegrationRef) -> AhaSyncOptions:
        config: dict[str, Any] = dict(ref.config or {})
        try:
            options = cls(
                products=tuple(str(p) for p in config.get("products") or ()),
                page_size=int(config.get("page_size", MAX_PER_PAGE)),
                overlap_minutes=int(config.get("overlap_minutes", 5)),
                reconcile=bool(config.get("reconcile", True)),
                windows=int(config.get("windows", 4)),
            )
        except (TypeError, ValueError) as exc:
            message = f"integration {ref.name!r}: invalid Aha! settings: {exc}"
            raise AhaConfigError(message) from None
        if not 1 <= options.page_size <= MAX_PER_PAGE:
            raise AhaConfigError(
                f"integration {ref.name!r}: page_size must be between 1 and {MAX_PER_PAGE}"
            )
        if not 1 <= options.windows <= MAX_WINDOWS:
            raise AhaConfigError(
                f"integration {ref.name!r}: windows must be between 1 and {MAX_WINDOWS}"
            )
        return options
