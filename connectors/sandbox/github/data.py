"""The GitHub view of the generated organisation: lookups, orderings and derived objects.

Reads ``Org`` only; caches what is expensive (a repository's pull requests sorted by
``updatedAt``, the node-id index) and invalidates it when the org's version moves (a
mutation such as a force-push changes ``updatedAt`` and the commits of a pull request).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from connectors.sandbox import deploy_schedule as ds
from connectors.sandbox.code_model import Deployment, DeploymentStatus, PullRequest
from connectors.sandbox.org import Org
from connectors.sandbox.people import GITHUB_BOTS
from connectors.sandbox.seeding import STREAM_PULL_REQUEST, STREAM_USER, mix64
from connectors.sandbox.structure import Client, Repository, node_id

Key = tuple[int, ...]
HTML = "https://github.com"
VIEWER_LOGIN = "pulse-sandbox"
VIEWER_DATABASE_ID = 90_000_001
_ENVIRONMENTS = (ds.Environment.PRODUCTION, ds.Environment.STAGING)


@dataclass(frozen=True, slots=True)
class Account:
    """A GitHub account as an ``Actor``: a user, a bot (``dependabot[bot]``) or an org."""

    login: str  # REST form (bots end in ``[bot]``)
    kind: str  # "User" | "Bot" | "Organization"
    database_id: int
    node_id: str
    name: str | None = None
    email: str | None = None
    client: int | None = None  # the organisation's client index

    @property
    def graphql_login(self) -> str:
        """GraphQL gives a bot's login without the ``[bot]`` suffix REST shows."""
        return self.login.removesuffix("[bot]")

    @property
    def html_url(self) -> str:
        if self.kind == "Bot":
            return f"{HTML}/apps/{self.graphql_login}"
        return f"{HTML}/{self.login}"

    @property
    def avatar_url(self) -> str:
        return f"https://avatars.githubusercontent.com/u/{self.database_id}?v=4"


@dataclass(frozen=True, slots=True)
class DeploymentView:
    """A deployment with the statuses GitHub would show: when a later deployment to the same
    environment succeeds, GitHub marks the earlier successful one ``INACTIVE`` (deployments
    are created with ``auto_inactive`` true by default:
    https://docs.github.com/rest/deployments/statuses#create-a-deployment-status)."""

    deployment: Deployment
    statuses: tuple[DeploymentStatus, ...]  # oldest first

    @property
    def state(self) -> str:
        """GraphQL ``DeploymentState``: ACTIVE for the live successful deployment."""
        last = self.statuses[-1].state if self.statuses else "PENDING"
        return "ACTIVE" if last == "SUCCESS" else last


class GitHubData:
    def __init__(self, org: Org) -> None:
        self.org = org
        self._lock = threading.Lock()
        self._repos = {(r.owner.lower(), r.name.lower()): r for r in org.repositories}
        self._orgs = {c.github_org.lower(): c for c in org.clients}
        self._updated_seen: dict[int, int] = {}
        self._orders: dict[tuple[int, str, int], tuple[list[int], list[Key]]] = {}
        self._pr_nodes: dict[str, int] | None = None
        self._deploy_slots: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
        self._accounts: dict[str, Account] = {}
        self.viewer = Account(
            VIEWER_LOGIN, "User", VIEWER_DATABASE_ID, node_id("U_kgDO", VIEWER_DATABASE_ID),
            "Pulse Sandbox", "sandbox@pulse.local",
        )  # fmt: skip

    # ------------------------------------------------------------------ accounts
    def account(self, login: str) -> Account:
        cached = self._accounts.get(login)
        if cached is not None:
            return cached
        if login == VIEWER_LOGIN:
            return self.viewer
        client = self._orgs.get(login.lower())
        if client is not None:
            acc = self.organization_account(client)
        else:
            h = mix64(self.org.seed, STREAM_USER, sum(map(ord, login)), len(login))
            kind = "Bot" if login in GITHUB_BOTS or login.endswith("[bot]") else "User"
            user = next((u for u in self.org.users if u.github_login == login), None)
            acc = Account(
                login,
                kind,
                10_000_000 + h % 90_000_000,
                node_id("BOT_kgDO" if kind == "Bot" else "U_kgDO", h),
                user.display_name if user else None,
                user.email if user else None,
            )
        self._accounts[login] = acc
        return acc

    def organization_account(self, client: Client) -> Account:
        h = mix64(self.org.seed, STREAM_USER, 777_000 + client.index)
        return Account(
            client.github_org, "Organization", 50_000_000 + client.index,
            node_id("O_kgDO", h), client.name, None, client.index,
        )  # fmt: skip

    def organization(self, login: str) -> Client | None:
        return self._orgs.get(login.lower())

    # ------------------------------------------------------------------ repositories
    def repository(self, owner: str, name: str) -> Repository | None:
        return self._repos.get((owner.lower(), name.lower()))

    def repositories_of(self, client: Client | None) -> list[Repository]:
        repos = self.org.repositories
        if client is None:
            return list(repos)
        return [r for r in repos if r.owner == client.github_org]

    # ------------------------------------------------------------------ pull requests
    def pull_request(self, index: int) -> PullRequest:
        return self.org.pull_request(index)

    def pull_request_by_number(self, repo: Repository, number: int) -> PullRequest | None:
        indices = self.org.repository_pull_requests(repo.index)
        return self.pull_request(indices[number - 1]) if 0 < number <= len(indices) else None

    def _force_pushes(self) -> Mapping[int, tuple[int, ...]]:
        # Org keeps force-pushes private; a public accessor is proposed in the report.
        pushes: Mapping[int, tuple[int, ...]] = getattr(self.org, "_force_pushes", {})
        return pushes

    def updated_ms(self, index: int) -> int:
        seen = self._updated_seen.get(index)
        if seen is None:
            seen = self.pull_request(index).updated_ms
            self._updated_seen[index] = seen
        pushes = self._force_pushes().get(index)
        return max(seen, pushes[-1]) if pushes else seen

    def pull_request_order(self, repo: int, field: str) -> tuple[list[int], list[Key]]:
        """PR indices of ``repo`` ascending by ``field`` (UPDATED_AT | CREATED_AT | COMMENTS)
        with their keys; ties are broken by number, so keys are unique."""
        cache_key = (repo, field, self.org.version)
        with self._lock:
            cached = self._orders.get(cache_key)
        if cached is not None:
            return cached
        indices = self.org.repository_pull_requests(repo)
        keyed: list[tuple[Key, int]]
        if field == "UPDATED_AT":
            keyed = [((self.updated_ms(j), n), j) for n, j in enumerate(indices, 1)]
            keyed.sort()
        elif field == "COMMENTS":
            keyed = [((len(self.pull_request(j).comments), n), j) for n, j in enumerate(indices, 1)]
            keyed.sort()
        else:  # CREATED_AT and the default order: number order is creation order
            keyed = [((n,), j) for n, j in enumerate(indices, 1)]
        result = ([j for _, j in keyed], [k for k, _ in keyed])
        with self._lock:
            if len(self._orders) > 256:
                self._orders.clear()
            self._orders[cache_key] = result
        return result

    def pull_request_by_node_id(self, node: str) -> PullRequest | None:
        if self._pr_nodes is None:
            seed = self.org.seed
            self._pr_nodes = {
                node_id("PR_kwDO", mix64(seed, STREAM_PULL_REQUEST, j, 100)): j
                for j in range(self.org.pull_request_count)
            }
        index = self._pr_nodes.get(node)
        return None if index is None else self.pull_request(index)

    # ------------------------------------------------------------------ deployments
    def deployment_slots(self, repo: int, env_filter: Sequence[str] | None) -> list[Key]:
        """Keys ``(created ms, database id, env, slot)`` of a repository's deployments,
        oldest first, optionally only to some environments."""
        envs = [e for e in _ENVIRONMENTS if env_filter is None or e.label in env_filter]
        out: list[Key] = []
        for env in envs:
            out.extend(self._env_slots(repo, env))
        out.sort()
        return out

    def _env_slots(self, repo: int, env: ds.Environment) -> list[tuple[int, int, int, int]]:
        cache_key = (repo, int(env))
        cached = self._deploy_slots.get(cache_key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        org = self.org
        rows = [
            (
                ds.slot_time(org.seed, org.start_ms, repo, env, s),
                50_000_000 + (repo * 2 + int(env)) * 100_000 + s,
                int(env),
                s,
            )
            for s in range(org.deployment_slots(repo, env))
        ]
        self._deploy_slots[cache_key] = rows  # type: ignore[assignment]
        return rows

    def deployment(self, repo: int, env: int, slot: int) -> DeploymentView:
        environment = ds.Environment(env)
        dep = self.org.deployment(repo, environment, slot)
        statuses = dep.statuses
        if statuses and statuses[-1].state == "SUCCESS":
            superseded = self._next_success(repo, environment, slot)
            if superseded is not None:
                statuses = (
                    *statuses,
                    DeploymentStatus(
                        dep.database_id * 2 + 1_000_000_000,
                        node_id("DES_kwDO", mix64(self.org.seed, dep.database_id, 3)),
                        "INACTIVE",
                        superseded,
                        "",
                        statuses[-1].log_url,
                    ),
                )
        return DeploymentView(dep, statuses)

    def _next_success(self, repo: int, env: ds.Environment, slot: int) -> int | None:
        """When the next successful deployment to the same environment finished."""
        count = self.org.deployment_slots(repo, env)
        for s in range(slot + 1, min(count, slot + 64)):
            later = self.org.deployment(repo, env, s)
            if later.statuses and later.statuses[-1].state == "SUCCESS":
                return later.statuses[-1].created_ms
        return None

    def deployment_by_database_id(self, repo: int, database_id: int) -> DeploymentView | None:
        rest = database_id - 50_000_000
        if rest < 0:
            return None
        group, slot = divmod(rest, 100_000)
        r, env = divmod(group, 2)
        if r != repo or env > 1:
            return None
        if slot >= self.org.deployment_slots(repo, ds.Environment(env)):
            return None
        return self.deployment(repo, env, slot)

    def merged_pull_request_before(self, repo: int, at_ms: int) -> PullRequest | None:
        """The pull request whose merge commit a deployment created at ``at_ms`` ships."""
        pk = self.org.pr_skeletons
        pos = bisect.bisect_left(pk.merged_ms[repo], at_ms)
        return self.pull_request(pk.merged_pr[repo][pos - 1]) if pos else None
