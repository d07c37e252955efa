"""The few REST endpoints a sync needs besides GraphQL, with GitHub's Link-header paging.

https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api : ``per_page``
(default 30, at most 100) and ``page``; a ``Link`` header with ``rel="next"``, ``"last"``,
``"first"`` and ``"prev"`` where they apply. Object shapes follow the REST reference pages
cited on each handler and the DevLake captures in ``fixtures/devlake/github``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from connectors.sandbox.github.data import HTML, Account, DeploymentView, GitHubData
from connectors.sandbox.http_app import json_response, site_base
from connectors.sandbox.ratelimit import Decision, WindowBudget
from connectors.sandbox.structure import Repository, node_id
from connectors.sandbox.timefmt import github_timestamp


class Budgets(Protocol):
    """What the REST endpoints need of the simulator (``app.GitHubSimulator``): its data,
    its rate-limit windows and its header wording; a protocol, so rest.py need not import
    the app that routes to it."""

    data: GitHubData
    core_budget: WindowBudget
    search_budget: WindowBudget
    graphql_budget: WindowBudget

    def rate_headers(self, d: Decision, resource: str) -> dict[str, str]: ...


DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"


class RestApi:
    def __init__(self, sim: Budgets) -> None:
        self.sim = sim
        self.data = sim.data
        routes: list[tuple[str, Callable[..., httpx.Response], str]] = [
            ("/rate_limit", self.rate_limit, ""),
            (_REPO + r"/deployments", self.deployments, "core"),
            (_REPO + r"/deployments/(?P<dep_id>\d+)/statuses", self.deployment_statuses, "core"),
            (_REPO + r"/actions/runs", self.workflow_runs, "core"),
            (r"/search/repositories", self.search_repositories, "search"),
        ]
        self.routes = [(re.compile(p + "$"), h, r) for p, h, r in routes]

    def route(self, request: httpx.Request, path: str) -> httpx.Response:
        for pattern, handler, resource in self.routes:
            m = pattern.match(path)
            if m is None:
                continue
            if request.method != "GET":
                return _not_found()
            if not resource:
                return handler(request, **m.groupdict())
            budget = self._budget(resource)
            decision = budget.consume()
            headers = self.sim.rate_headers(decision, resource)
            if not decision.allowed:
                return json_response(
                    403,
                    {
                        "message": "API rate limit exceeded for user ID "
                        f"{self.data.viewer.database_id}. If you reach out to GitHub Support for "
                        "help, please include the request ID C0DE:5A4D:B0X0:5EED:00000000.",
                        "documentation_url": "https://docs.github.com/rest/overview/"
                        "rate-limits-for-the-rest-api#about-primary-rate-limits",
                    },
                    headers,
                )
            response = handler(request, **m.groupdict())
            response.headers.update(headers)
            return response
        return _not_found()

    def _budget(self, resource: str) -> WindowBudget:
        return self.sim.search_budget if resource == "search" else self.sim.core_budget

    # ------------------------------------------------------------------ endpoints
    def rate_limit(self, request: httpx.Request) -> httpx.Response:
        """GET /rate_limit (does not count against any limit) —
        https://docs.github.com/rest/rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user"""

        def view(budget: WindowBudget) -> dict[str, int]:
            d = budget.peek()
            return {"limit": d.limit, "used": d.used, "remaining": d.remaining,
                    "reset": int(d.reset_at)}  # fmt: skip

        core = view(self.sim.core_budget)
        body = {
            "resources": {
                "core": core,
                "search": view(self.sim.search_budget),
                "graphql": view(self.sim.graphql_budget),
            },
            "rate": core,
        }
        return json_response(200, body, self.sim.rate_headers(self.sim.core_budget.peek(), "core"))

    def deployments(self, request: httpx.Request, owner: str, name: str) -> httpx.Response:
        """GET /repos/{owner}/{repo}/deployments, newest first; filters sha, ref, task,
        environment — https://docs.github.com/rest/deployments/deployments#list-deployments"""
        repo = self.data.repository(owner, name)
        if repo is None:
            return _not_found("deployments/deployments#list-deployments")
        q = request.url.params
        env = q.get("environment")
        keys = self.data.deployment_slots(repo.index, [env] if env else None)[::-1]
        sha, ref, task = q.get("sha"), q.get("ref"), q.get("task")
        if sha or ref or task:
            keys = [
                k
                for k in keys
                if (d := self.data.deployment(repo.index, k[2], k[3]).deployment)
                and (not sha or d.sha == sha)
                and (not ref or d.ref == ref)
                and (not task or d.task == task)
            ]
        start, size, headers = _paging(request, len(keys))
        api = _api_base(request)
        items = [
            self._deployment(api, repo, self.data.deployment(repo.index, k[2], k[3]))
            for k in keys[start : start + size]
        ]
        return json_response(200, items, headers)

    def deployment_statuses(
        self, request: httpx.Request, owner: str, name: str, dep_id: str
    ) -> httpx.Response:
        """GET /repos/{owner}/{repo}/deployments/{id}/statuses, newest first —
        https://docs.github.com/rest/deployments/statuses#list-deployment-statuses"""
        repo = self.data.repository(owner, name)
        view = (
            None if repo is None else self.data.deployment_by_database_id(repo.index, int(dep_id))
        )
        if repo is None or view is None:
            return _not_found("deployments/statuses#list-deployment-statuses")
        statuses = list(reversed(view.statuses))
        start, size, headers = _paging(request, len(statuses))
        api = _api_base(request)
        dep_url = f"{api}/repos/{repo.full_name}/deployments/{view.deployment.database_id}"
        creator = self._user(api, self.data.account(view.deployment.creator_login))
        items = [
            {
                "url": f"{dep_url}/statuses/{s.database_id}",
                "id": s.database_id,
                "node_id": s.node_id,
                "state": s.state.lower(),
                "creator": creator,
                "description": s.description,
                "environment": view.deployment.environment,
                "target_url": s.log_url,
                "created_at": github_timestamp(s.created_ms),
                "updated_at": github_timestamp(s.created_ms),
                "deployment_url": dep_url,
                "repository_url": f"{api}/repos/{repo.full_name}",
                "environment_url": "",
                "log_url": s.log_url,
                "performed_via_github_app": None,
            }
            for s in statuses[start : start + size]
        ]
        return json_response(200, items, headers)

    def workflow_runs(self, request: httpx.Request, owner: str, name: str) -> httpx.Response:
        """GET /repos/{owner}/{repo}/actions/runs, newest first; ``{"total_count",
        "workflow_runs"}`` — https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository

        Each deployment is the run of a ``deploy-<environment>.yml`` workflow on a push to the
        default branch; its conclusion is the deployment's outcome. Filters: ``branch``,
        ``event``, ``status`` (a conclusion or ``completed``), ``head_sha``."""
        repo = self.data.repository(owner, name)
        if repo is None:
            return _not_found("actions/workflow-runs#list-workflow-runs-for-a-repository")
        q = request.url.params
        keys = self.data.deployment_slots(repo.index, None)[::-1]
        if q.get("event") not in (None, "push") or q.get("branch") not in (
            None,
            repo.default_branch,
        ):
            keys = []
        status, head_sha = q.get("status"), q.get("head_sha")
        views = None
        if status or head_sha:
            views = [self.data.deployment(repo.index, k[2], k[3]) for k in keys]
            views = [
                v
                for v in views
                if (not head_sha or v.deployment.sha == head_sha)
                and (not status or status in ("completed", _conclusion(v)))
            ]
        total = len(views) if views is not None else len(keys)
        start, size, headers = _paging(request, total)
        api = _api_base(request)
        if views is None:
            chosen = [
                self.data.deployment(repo.index, k[2], k[3]) for k in keys[start : start + size]
            ]
        else:
            chosen = views[start : start + size]
        body = {"total_count": total, "workflow_runs": [self._run(api, repo, v) for v in chosen]}
        return json_response(200, body, headers)

    def search_repositories(self, request: httpx.Request) -> httpx.Response:
        """GET /search/repositories?q= (qualifiers ``org:``, ``user:``, ``repo:``; at most
        1,000 results) — https://docs.github.com/rest/search/search#search-repositories"""
        q = request.url.params.get("q")
        if not q:
            return json_response(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [{"resource": "Search", "field": "q", "code": "missing"}],
                    "documentation_url": "https://docs.github.com/rest/search/search#search-repositories",
                    "status": "422",
                },
            )
        owners = {
            t.split(":", 1)[1].lower() for t in q.split() if t.split(":")[0] in ("org", "user")
        }
        words = [t.lower() for t in q.split() if ":" not in t]
        repos = [
            r
            for r in self.data.org.repositories
            if (not owners or r.owner.lower() in owners) and all(w in r.name for w in words)
        ][:1000]
        start, size, headers = _paging(request, len(repos))
        api = _api_base(request)
        items = [{**self._repository(api, r), "score": 1.0} for r in repos[start : start + size]]
        body = {"total_count": len(repos), "incomplete_results": False, "items": items}
        return json_response(200, body, headers)

    # ------------------------------------------------------------------ shapes
    def _user(self, api: str, acc: Account) -> dict[str, Any]:
        """simple-user — https://docs.github.com/rest/users/users#get-a-user"""
        url = f"{api}/users/{acc.login.replace('[', '%5B').replace(']', '%5D')}"
        return {
            "login": acc.login,
            "id": acc.database_id,
            "node_id": acc.node_id,
            "avatar_url": acc.avatar_url,
            "gravatar_id": "",
            "url": url,
            "html_url": acc.html_url,
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": acc.kind,
            "user_view_type": "public",
            "site_admin": False,
        }

    def _repository(self, api: str, r: Repository) -> dict[str, Any]:
        url = f"{api}/repos/{r.full_name}"
        return {
            "id": r.database_id,
            "node_id": r.node_id,
            "name": r.name,
            "full_name": r.full_name,
            "private": True,
            "owner": self._user(api, self.data.account(r.owner)),
            "html_url": f"{HTML}/{r.full_name}",
            "description": f"{r.name} service",
            "fork": False,
            "url": url,
            "created_at": github_timestamp(r.created_ms),
            "updated_at": github_timestamp(self.data.org.now_ms),
            "pushed_at": github_timestamp(self.data.org.now_ms),
            "default_branch": r.default_branch,
            "visibility": "private",
            "archived": False,
            "disabled": False,
        }

    def _deployment(self, api: str, repo: Repository, view: DeploymentView) -> dict[str, Any]:
        """deployment — https://docs.github.com/rest/deployments/deployments#get-a-deployment"""
        d = view.deployment
        url = f"{api}/repos/{repo.full_name}/deployments/{d.database_id}"
        return {
            "url": url,
            "id": d.database_id,
            "node_id": d.node_id,
            "sha": d.sha,
            "ref": d.ref,
            "task": d.task,
            "payload": {},
            "original_environment": d.environment,
            "environment": d.environment,
            "description": None,
            "creator": self._user(api, self.data.account(d.creator_login)),
            "created_at": github_timestamp(d.created_ms),
            "updated_at": github_timestamp(view.statuses[-1].created_ms),
            "statuses_url": f"{url}/statuses",
            "repository_url": f"{api}/repos/{repo.full_name}",
            "transient_environment": False,
            "production_environment": d.environment == "production",
            "performed_via_github_app": None,
        }

    def _run(self, api: str, repo: Repository, view: DeploymentView) -> dict[str, Any]:
        d = view.deployment
        run_id = 9_000_000_000 + d.database_id
        workflow_id = 70_000_000 + repo.index * 4 + (0 if d.environment == "production" else 1)
        url = f"{api}/repos/{repo.full_name}/actions/runs/{run_id}"
        suite = 20_000_000_000 + d.database_id
        actor = self._user(api, self.data.account(d.creator_login))
        finished = next(
            (s.created_ms for s in view.statuses if s.state in ("SUCCESS", "FAILURE", "ERROR")),
            d.updated_ms,
        )
        repo_obj = self._repository(api, repo)
        return {
            "id": run_id,
            "name": f"Deploy to {d.environment}",
            "node_id": node_id("WFR_kwLO", run_id),
            "head_branch": d.ref,
            "head_sha": d.sha,
            "path": f".github/workflows/deploy-{d.environment}.yml",
            "display_title": f"Deploy {d.sha[:7]} to {d.environment}",
            "run_number": d.slot + 1,
            "event": "push",
            "status": "completed",
            "conclusion": _conclusion(view),
            "workflow_id": workflow_id,
            "check_suite_id": suite,
            "check_suite_node_id": node_id("CS_kwDO", suite),
            "url": url,
            "html_url": f"{HTML}/{repo.full_name}/actions/runs/{run_id}",
            "pull_requests": [],
            "created_at": github_timestamp(d.created_ms),
            "updated_at": github_timestamp(finished),
            "actor": actor,
            "run_attempt": 1,
            "referenced_workflows": [],
            "run_started_at": github_timestamp(d.created_ms),
            "triggering_actor": actor,
            "jobs_url": f"{url}/jobs",
            "logs_url": f"{url}/logs",
            "check_suite_url": f"{api}/repos/{repo.full_name}/check-suites/{suite}",
            "artifacts_url": f"{url}/artifacts",
            "cancel_url": f"{url}/cancel",
            "rerun_url": f"{url}/rerun",
            "previous_attempt_url": None,
            "workflow_url": f"{api}/repos/{repo.full_name}/actions/workflows/{workflow_id}",
            "head_commit": {
                "id": d.sha,
                "tree_id": d.sha[::-1],
                "message": f"Deploy {d.sha[:7]}",
                "timestamp": github_timestamp(d.created_ms),
                "author": {"name": "Sandbox", "email": "sandbox@pulse.local"},
                "committer": {"name": "GitHub", "email": "noreply@github.com"},
            },
            "repository": repo_obj,
            "head_repository": repo_obj,
        }


def _conclusion(view: DeploymentView) -> str:
    final = next(
        (s.state for s in view.statuses if s.state in ("SUCCESS", "FAILURE", "ERROR")), "SUCCESS"
    )
    return "success" if final == "SUCCESS" else "failure"


def _api_base(request: httpx.Request) -> str:
    base = site_base(request)
    return base + "/api/v3" if request.url.path.startswith("/api/v3/") else base


def _paging(request: httpx.Request, total: int) -> tuple[int, int, dict[str, str]]:
    """``page``/``per_page`` and the ``Link`` header GitHub sends with a paged list."""
    q = request.url.params
    try:
        size = min(MAX_PER_PAGE, max(1, int(q.get("per_page") or DEFAULT_PER_PAGE)))
        page = max(1, int(q.get("page") or 1))
    except ValueError:
        size, page = DEFAULT_PER_PAGE, 1
    last = max(1, -(-total // size))
    base = str(request.url.copy_with(query=None))
    if request.headers.get("x-forwarded-prefix"):
        base = site_base(request) + request.url.path

    def link(p: int) -> str:
        params = dict(q.multi_items())
        params.update(per_page=str(size), page=str(p))
        return f"<{base}?{httpx.QueryParams(params)}>"

    rels = []
    if page > 1:
        rels += [f'{link(page - 1)}; rel="prev"']
    if page < last:
        rels += [f'{link(page + 1)}; rel="next"', f'{link(last)}; rel="last"']
    if page > 1:
        rels += [f'{link(1)}; rel="first"']
    headers = {"link": ", ".join(rels)} if rels else {}
    return (page - 1) * size, size, headers


def _not_found(doc: str = "") -> httpx.Response:
    return json_response(
        404,
        {
            "message": "Not Found",
            "documentation_url": f"https://docs.github.com/rest/{doc}"
            if doc
            else "https://docs.github.com/rest",
            "status": "404",
        },
    )
