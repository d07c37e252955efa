"""GitHub connector calls for one run: the client, repository discovery, and pages of pull
requests (completed with every commit, review and comment), deployments and workflow runs.

Nothing here writes rows or checkpoints; discovery is told which repositories Jira's
dev-status panels name (read from storage by the caller).
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable

import httpx

from connectors.github import GitHubClient, Page, split_tokens
from connectors.github.client import github_gate
from connectors.github.models import Repository
from connectors.http import Clock, RateLimitPolicy, RetryPolicy
from pulse_console.pipelines.base import RunContext
from pulse_console.pipelines.context import token_secret_name
from pulse_console.pipelines.github.options import GitHubConfigError, GitHubSyncConfig

log = logging.getLogger("pulse_console.pipelines.github")

Found = dict[str, tuple[Repository, set[str]]]
"""``owner/name`` (lower case) → the repository and how it was found."""


def open_client(
    ctx: RunContext,
    cfg: GitHubSyncConfig,
    *,
    transport: httpx.BaseTransport | None,
    clock: Clock | None,
    retry: RetryPolicy | None,
    rate_limit: RateLimitPolicy | None,
) -> GitHubClient:
    """A client over the integration's token(s), one a line, used in turn."""
    tokens = split_tokens(ctx.secret(token_secret_name(ctx)) or "")
    if not tokens:
        raise GitHubConfigError(
            f"GitHub integration {ctx.integration.name!r} has no token. Add one with "
            "`pulse-console integration add github … --token-stdin`."
        )
    base_url = ctx.integration.base_url or "https://api.github.com"
    return GitHubClient.create(
        tokens,
        base_url,
        enterprise=cfg.enterprise or None,
        transport=transport,
        clock=clock,
        cancel=ctx.cancel,
        retry=retry,
        rate_limit=rate_limit,
        # One budget for the integration's account, whatever number of repositories at once.
        gate=github_gate(base_url, f"integration:{ctx.integration.id}"),
    )


def discover(client: GitHubClient, cfg: GitHubSyncConfig, dev_status: set[str]) -> Found:
    """Explicit list + org repositories matching the patterns + search + the repositories
    dev-status names (``dev_status``: lower-case ``owner/name``); archived ones only when
    named explicitly."""
    found: Found = {}

    def add(repo: Repository | None, how: str) -> None:
        if repo is None or (repo.is_archived and how != "explicit"):
            return
        key = repo.name_with_owner.lower()
        found.setdefault(key, (repo, set()))[1].add(how)

    for name in cfg.repos:
        repo = client.repository(name)
        if repo is None:
            log.warning("repository %s not found or not visible to the token", name)
        add(repo, "explicit")
    patterns = cfg.patterns or (("*",) if cfg.orgs else ())
    for org in cfg.orgs:
        for page in client.iter_organization_repositories(org):
            for repo in page.items:
                short = repo.name_with_owner.split("/", 1)[-1]
                if any(
                    fnmatch.fnmatch(short.lower(), p.lower())
                    or fnmatch.fnmatch(repo.name_with_owner.lower(), p.lower())
                    for p in patterns
                ):
                    add(repo, "pattern")
    if cfg.search:
        for repo in client.search_repositories(cfg.search):
            add(repo, "search")
    for name in sorted(dev_status - set(found)):
        add(client.repository(name), "dev_status")
    for name in dev_status & set(found):
        found[name][1].add("dev_status")
    return found


PageFetch = Callable[[str | None, int | None], Page]
"""(cursor, first) → one page; ``first`` asks for a smaller first page."""


def pull_requests(client: GitHubClient, full_name: str, cfg: GitHubSyncConfig) -> PageFetch:
    """Pages of pull requests, newest updated first, each completed with all its commits,
    reviews and comments (their rejects join the page's)."""

    def fetch(cursor: str | None, first: int | None) -> Page:
        page = client.pull_request_page(full_name, cursor, cfg.sizes, first=first)
        for pr in page.items:
            page.rejected.extend(client.complete_pull_request(pr, cfg.sizes))
        return page

    return fetch


def deployments(client: GitHubClient, full_name: str, cfg: GitHubSyncConfig) -> PageFetch:
    """Pages of deployments, newest first."""

    def fetch(cursor: str | None, first: int | None) -> Page:
        return client.deployment_page(full_name, cursor, cfg.sizes)

    return fetch
