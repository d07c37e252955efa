"""The one protocol every source client (Jira, GitHub, Azure DevOps, Aha!) implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from connectors.http.counters import HttpCounters
from connectors.secret import redact


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer to the console's "test connection" button.

    ``message`` is one line for the operator ("Connected to Acme Jira as Ada (Cloud)").
    """

    ok: bool
    message: str
    title: str = ""
    account: str | None = None
    server: str | None = None

    def __post_init__(self) -> None:
        # The message often quotes the server; it is stored and shown, so never a secret.
        object.__setattr__(self, "message", redact(self.message))
        object.__setattr__(self, "title", redact(self.title))


@runtime_checkable
class Connector(Protocol):
    """What the engine needs from any source client, whatever its API looks like."""

    source: str
    """Short name of the service: "jira", "github", "azure_devops", "aha"."""

    def test_connection(self) -> ConnectionCheck:
        """Make one cheap authenticated call; never raises for expected failures."""
        ...

    def counters(self) -> HttpCounters:
        """Requests, retries, bytes and waits so far (a snapshot)."""
        ...

    def close(self) -> None: ...
