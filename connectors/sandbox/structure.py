"""The organisation's fixed structure: clients, Jira projects, teams and GitHub repositories.

Small (at most a few hundred objects), so it is built eagerly. Each client has its own GitHub
organisation; each Jira project owns one or more repositories whose pull requests carry the
project's issue keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.sandbox.seeding import STREAM_PROJECT, STREAM_REPOSITORY, mix64, rng
from connectors.sandbox.sizes import SizeSpec
from connectors.sandbox.timefmt import DAY_MS

_CLIENTS = ("Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Wonka", "Acme")
_PRODUCTS = (
    ("PAY", "Payments"), ("CHK", "Checkout"), ("SRCH", "Search"), ("MOB", "Mobile App"),
    ("PLAT", "Platform"), ("IDN", "Identity"), ("BIL", "Billing"), ("ANA", "Analytics"),
    ("INV", "Inventory"), ("SHP", "Shipping"), ("CAT", "Catalog"), ("NTF", "Notifications"),
    ("GW", "Gateway"), ("REP", "Reporting"), ("ONB", "Onboarding"), ("LED", "Ledger"),
    ("SCH", "Scheduler"), ("POR", "Portal"), ("MSG", "Messaging"), ("PRC", "Pricing"),
    ("LOY", "Loyalty"), ("SUP", "Support"), ("WH", "Warehouse"), ("AUTH", "Auth"),
    ("FX", "Currency"), ("ML", "Recommendations"), ("OPS", "Operations"), ("DOC", "Docs"),
    ("CRM", "Customers"), ("API", "Public API"), ("EDGE", "Edge"), ("DATA", "Data Lake"),
)  # fmt: skip
_REPO_SUFFIXES = ("api", "web", "worker", "infra")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def node_id(prefix: str, value: int, length: int = 12) -> str:
    """An opaque GitHub-style global node id (e.g. ``PR_kwDO...``); only its shape is real."""
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 62)
        chars.append(_BASE62[rem])
    return prefix + "".join(chars)


@dataclass(frozen=True, slots=True)
class Client:
    index: int
    name: str
    github_org: str
    category_id: str


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Project:
    index: int
    id: str
    key: str
    name: str
    client: int
    team_managed: bool
    team: Team
    members: tuple[int, ...]  # user indices
    repositories: tuple[int, ...]  # repository indices
    weight: float  # share of the org's issues


@dataclass(frozen=True, slots=True)
class Repository:
    index: int
    database_id: int
    node_id: str
    owner: str
    name: str
    project: int
    created_ms: int
    default_branch: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True, slots=True)
class Structure:
    clients: tuple[Client, ...]
    projects: tuple[Project, ...]
    repositories: tuple[Repository, ...]


def build_structure(seed: int, spec: SizeSpec, users: int, start_ms: int) -> Structure:
    r = rng(seed, STREAM_PROJECT, 0)
    offset = seed % len(_PRODUCTS)
    clients: list[Client] = []
    projects: list[Project] = []
    repos: list[Repository] = []
    for c in range(spec.clients):
        name = _CLIENTS[c % len(_CLIENTS)]
        clients.append(Client(c, name, f"{name.lower()}-eng", str(10000 + c)))
        for _p in range(spec.projects_per_client):
            index = len(projects)
            key, product = _PRODUCTS[(offset + index) % len(_PRODUCTS)]
            team_size = max(3, users // (spec.clients * spec.projects_per_client) + 2)
            first = r.randrange(users)
            members = tuple(sorted({(first + k) % users for k in range(team_size)}))
            repo_indices: list[int] = []
            for k in range(spec.repositories_per_project):
                ri = len(repos)
                repos.append(
                    Repository(
                        index=ri,
                        database_id=100_000_000 + mix64(seed, STREAM_REPOSITORY, ri) % 800_000_000,
                        node_id=node_id("R_kgDO", mix64(seed, STREAM_REPOSITORY, ri, 1)),
                        owner=clients[c].github_org,
                        name=f"{product.lower().replace(' ', '-')}-{_REPO_SUFFIXES[k % 4]}",
                        project=index,
                        created_ms=start_ms - (30 + r.randrange(300)) * DAY_MS,
                        default_branch="main" if r.random() < 0.85 else "master",
                    )
                )
                repo_indices.append(ri)
            projects.append(
                Project(
                    index=index,
                    id=str(10000 + index),
                    key=key,
                    name=f"{name} {product}",
                    client=c,
                    # Every third project is team-managed: its "In progress" differs in case.
                    team_managed=index % 3 == 2,
                    team=Team(
                        f"{mix64(seed, STREAM_PROJECT, index):032x}"[:32], f"{product} squad"
                    ),
                    members=members,
                    repositories=tuple(repo_indices),
                    weight=0.5 + r.random(),
                )
            )
    return Structure(tuple(clients), tuple(projects), tuple(repos))
