"""What an Aha! integration's `config` (jsonb) may say, with defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.aha import MAX_PER_PAGE
from pulse_console.pipelines.base import IntegrationRef


class AhaConfigError(ValueError):
    """The integration's configuration cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class AhaSyncOptions:
    """Tunables of one Aha! integration (all optional).

    ``products``: product ids or reference prefixes to sync (empty: every product the key
    can see). ``page_size``: records per list call (Aha! allows at most 200).
    ``overlap_minutes``: how far before the last run's start an incremental run asks
    ``updated_since`` from (our clock is not Aha!'s). ``reconcile``: after each run, list
    every record id (``fields=id``) to deactivate deleted records.
    """

    products: tuple[str, ...] = ()
    page_size: int = MAX_PER_PAGE
    overlap_minutes: int = 5
    reconcile: bool = True

    @classmethod
    def from_integration(cls, ref: IntegrationRef) -> AhaSyncOptions:
        config: dict[str, Any] = dict(ref.config or {})
        try:
            options = cls(
                products=tuple(str(p) for p in config.get("products") or ()),
                page_size=int(config.get("page_size", MAX_PER_PAGE)),
                overlap_minutes=int(config.get("overlap_minutes", 5)),
                reconcile=bool(config.get("reconcile", True)),
            )
        except (TypeError, ValueError) as exc:
            message = f"integration {ref.name!r}: invalid Aha! settings: {exc}"
            raise AhaConfigError(message) from None
        if not 1 <= options.page_size <= MAX_PER_PAGE:
            raise AhaConfigError(
                f"integration {ref.name!r}: page_size must be between 1 and {MAX_PER_PAGE}"
            )
        return options
