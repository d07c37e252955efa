"""Typed errors every connector raises.

Each error carries an operator-facing ``title`` and ``message`` (shown as-is by the console's
error dialog) that say what happened, what it affects and what to do next. None of them ever
includes a credential: messages are built from method, path, status and server text, and
every text passes `redact` (a server may echo the request's credentials back).
"""

from __future__ import annotations

from datetime import datetime

from connectors.secret import redact


class ConnectorError(Exception):
    """Base of every error a connector raises on purpose."""

    default_title = "Connector error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        message = redact(message)
        super().__init__(message)
        self.title = redact(title or self.default_title)
        self.message = message

    def __str__(self) -> str:
        return f"{self.title}: {self.message}"


class HttpStatusError(ConnectorError):
    """The service answered with a status we do not retry (4xx other than 429)."""

    default_title = "Request rejected"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str = "",
        path: str = "",
        server_messages: tuple[str, ...] = (),
        title: str | None = None,
    ) -> None:
        super().__init__(message, title=title)
        self.status = status
        self.method = method
        self.path = path
        self.server_messages = tuple(redact(m) for m in server_messages)


class AuthError(HttpStatusError):
    """401 (credentials refused) or 403 (authenticated, but not allowed)."""

    default_title = "Authentication failed"


class NotFound(HttpStatusError):
    """404: the resource does not exist, or this account may not see it."""

    default_title = "Not found"


class RequestRejected(HttpStatusError):
    """Any other non-retryable status (400 bad JQL, 405, 409, 410 …)."""


class RateLimited(ConnectorError):
    """The service asked us to wait longer than we are willing to block.

    The job turns this into a checkpointed pause and resumes after ``reset_at``.
    """

    default_title = "Rate limited"

    def __init__(
        self,
        message: str,
        *,
        reset_at: datetime | None,
        retry_after: float | None,
        source: str,
        title: str | None = None,
    ) -> None:
        super().__init__(message, title=title)
        self.reset_at = reset_at
        self.retry_after = retry_after
        self.source = source


class Cancelled(ConnectorError):
    """The job was asked to stop; raised before the next request is sent."""

    default_title = "Cancelled"


class BudgetExhausted(ConnectorError):
    """The client-side request budget for this run is spent."""

    default_title = "Request budget exhausted"

    def __init__(self, message: str, *, limit: int, title: str | None = None) -> None:
        super().__init__(message, title=title)
        self.limit = limit


class TransportError(ConnectorError):
    """Retries exhausted on 5xx, timeouts or connection failures."""

    default_title = "Service unreachable"

    def __init__(
        self,
        message: str,
        *,
        attempts: int,
        last_status: int | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(message, title=title)
        self.attempts = attempts
        self.last_status = last_status


class BadPayload(ConnectorError):
    """A response body that is not JSON, or does not match the expected model.

    ``raw`` keeps the start of the body so the pipeline can quarantine it.
    """

    default_title = "Unexpected response"
    RAW_LIMIT = 64 * 1024

    def __init__(self, message: str, *, raw: str, url: str = "", title: str | None = None) -> None:
        super().__init__(message, title=title)
        self.raw = redact(raw[: self.RAW_LIMIT])
        self.truncated = len(raw) > self.RAW_LIMIT
        self.url = url
