"""Jira connector calls for one run: the client, metadata, search pages, changelogs and
dev-status, each asked again when Jira sends an unreadable body.

An unreadable body (not JSON, or not the shape the models expect) is quarantined with its
raw text and asked for again up to `PAYLOAD_ATTEMPTS` times; then the run fails with one
clear line and an intact checkpoint. Nothing here writes rows or checkpoints.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx

from connectors.errors import AuthError, BadPayload, Cancelled, NotFound
from connectors.http import Secret
from connectors.jira import JiraClient, SearchPage, jira_gate
from connectors.jira.changelogs import ChangelogBatch
from connectors.jira.models import (
    DevStatusDetail,
    FieldInfo,
    Issue,
    IssueType,
    Project,
    Status,
    User,
)
from pulse_console.pipelines.base import RunContext
from pulse_console.pipelines.context import token_secret_name
from pulse_console.pipelines.jira.options import JiraSyncOptions
from pulse_console.pipelines.quarantine import BadResponse, quarantine

T = TypeVar("T")

PAYLOAD_ATTEMPTS = 3
"""A response that is not valid JSON is quarantined and asked for again this many times."""

STOPPED = (
    "Stopped between Jira pages, as requested. Every committed page is kept and "
    "the next run resumes after it."
)


class JiraSyncError(Exception):
    """The run cannot go on; ``title``/``message`` are shown to the operator."""

    def __init__(self, message: str, *, title: str = "Jira sync failed") -> None:
        super().__init__(message)
        self.title = title
        self.message = message

    def __str__(self) -> str:
        return f"{self.title}: {self.message}"


def open_client(
    ctx: RunContext,
    options: JiraSyncOptions,
    *,
    transport: httpx.BaseTransport | None,
    http_options: Mapping[str, Any],
) -> JiraClient:
    """A Jira client for the run's integration, with its stored token and the run's cancel."""
    http: dict[str, Any] = {**http_options, "cancel": ctx.cancel}
    # The account's one rate budget, whatever number of windows and runs use it at once.
    if "gate" not in http:
        http["gate"] = jira_gate(
            ctx.integration.base_url, options.email or ctx.integration.name, options.max_in_flight
        )
    if transport is not None:
        http["transport"] = transport
    return client_for(ctx.integration.base_url, options, run_token(ctx), http)


def run_token(ctx: RunContext) -> str:
    """The run's integration token, or a `JiraSyncError` saying how to store one."""
    secret_name = token_secret_name(ctx)
    token = ctx.secret(secret_name)
    if not token:
        raise JiraSyncError(
            f"No API token is stored for integration {ctx.integration.name!r} "
            f"(secret {secret_name!r}). Store it with `pulse-console integration add jira "
            "… --token-stdin`, then run the sync again.",
            title="Jira token missing",
        )
    return token


def client_for(
    base_url: str, options: JiraSyncOptions, token: str, http: Mapping[str, Any]
) -> JiraClient:
    """A Cloud or Data Center client (per ``options.deployment``) with the HTTP options."""
    if options.deployment == "data_center":
        return JiraClient.data_center(base_url, Secret(token), **http)
    return JiraClient.cloud(base_url, options.email or "", Secret(token), **http)


class JiraExtract:
    """The run's Jira calls; ``quarantined`` counts the unreadable bodies kept meanwhile."""

    def __init__(
        self,
        client: JiraClient,
        options: JiraSyncOptions,
        *,
        log: logging.Logger | logging.LoggerAdapter[logging.Logger],
        cancelled: Callable[[], bool],
        keep: Callable[[BadResponse], None],
    ) -> None:
        self.client = client
        self.options = options
        self.log = log
        self.cancelled = cancelled
        self.keep = keep  # quarantines an unreadable body (its raw text, the error)
        self.quarantined = 0
        self._lock = threading.Lock()  # windows and dev-status calls run in several threads

    @classmethod
    def of_run(cls, ctx: RunContext, options: JiraSyncOptions, client: JiraClient) -> JiraExtract:
        """The run's calls, logging to its log and quarantining into its database."""

        def keep(bad: BadResponse) -> None:
            with ctx.database.engine.begin() as conn:
                quarantine(conn, ctx, [bad])

        return cls(client, options, log=ctx.log, cancelled=lambda: ctx.cancel.cancelled, keep=keep)

    # -- metadata ----------------------------------------------------------------------------

    def myself(self) -> User:
        return self.payload(self.client.myself)

    def projects(self) -> list[Project]:
        return self.payload(lambda: list(self.client.iter_projects()))

    def statuses(self) -> list[Status]:
        return self.payload(self.client.statuses)

    def issue_types(self) -> list[IssueType]:
        return self.payload(self.client.issue_types)

    def fields(self) -> list[FieldInfo]:
        return self.payload(self.client.fields)

    def users(self) -> list[User]:
        """Every user, or none without the Browse-users permission (people still arrive
        with their issues)."""
        try:
            return self.payload(lambda: list(self.client.iter_users()))
        except AuthError as exc:
            self.log.warning("cannot list Jira users (%s); continuing without", exc.message)
            return []

    # -- issues ------------------------------------------------------------------------------

    def approximate_count(self, jql: str) -> int:
        return self.payload(lambda: self.client.approximate_count(jql))

    def search(
        self,
        jql: str,
        token: str | None,
        *,
        ids_only: bool = False,
        extra_fields: tuple[str, ...] = (),
    ) -> SearchPage:
        """One page of ``jql``: full issues with changelogs (and ``extra_fields``, e.g. the
        Development field), or only their ids."""
        if ids_only:
            call = functools.partial(
                self.client.search_page,
                jql,
                fields=["key"],
                next_page_token=token,
                max_results=self.options.reconcile_page_size,
            )
        else:
            call = functools.partial(
                self.client.search_page,
                jql,
                fields=[*self.options.fields, *extra_fields],
                expand=["changelog"],
                next_page_token=token,
                max_results=self.options.page_size,
            )
        return self.payload(call, what="search page")

    def updated_bound(self, clause: str, *, newest: bool) -> datetime | None:
        """The oldest (or newest) ``updated`` among the issues ``clause`` matches."""
        order = "DESC" if newest else "ASC"
        call = functools.partial(
            self.client.search_page,
            f"{clause} ORDER BY updated {order}",
            fields=["updated"],
            max_results=1,
        )
        page = self.payload(call, what="search page")
        return page.issues[0].fields.updated if page.issues else None

    def changelogs(self, issues: list[Issue]) -> ChangelogBatch:
        return self.payload(lambda: self.client.complete_changelogs(issues), what="changelogs")

    def dev_status(self, issue: Issue) -> DevStatusDetail | None:
        """All linked pull requests of one issue, across the configured tools.

        None keeps the links stored before: the issue vanished meanwhile (reconciliation
        deactivates it), or its panel stayed unreadable (quarantined).
        """
        merged: DevStatusDetail | None = None
        for application in self.options.dev_status_applications:
            if self.cancelled():
                raise Cancelled(STOPPED)
            call = functools.partial(
                self.client.dev_status_detail, issue.id, application, "pullrequest"
            )
            try:
                detail = self._retrying(call, what="dev-status", external_id=issue.id)
            except (NotFound, BadPayload):
                return None
            if merged is None:
                merged = detail
            else:
                merged.detail.extend(detail.detail)
        return merged

    # -- unreadable bodies -------------------------------------------------------------------

    def payload(self, call: Callable[[], T], *, what: str = "response") -> T:
        """Run ``call``; an unreadable body is quarantined and asked for again, then fails."""
        try:
            return self._retrying(call, what=what)
        except BadPayload as exc:
            raise JiraSyncError(
                f"Jira kept sending an unreadable {what} ({exc.message}). The payloads are in "
                "quarantine and the checkpoint is intact: run the sync again later to resume.",
                title="Unreadable Jira response",
            ) from None

    def _retrying(self, call: Callable[[], T], *, what: str, external_id: str | None = None) -> T:
        """Up to ``PAYLOAD_ATTEMPTS`` tries; every unreadable body is quarantined."""
        for attempt in range(1, PAYLOAD_ATTEMPTS + 1):
            try:
                return call()
            except BadPayload as exc:
                self.keep(BadResponse.of(what, exc, external_id))
                with self._lock:
                    self.quarantined += 1
                self.log.warning(
                    "Jira sent an unreadable %s (attempt %d of %d); kept it in quarantine",
                    what,
                    attempt,
                    PAYLOAD_ATTEMPTS,
                )
                if attempt == PAYLOAD_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")
