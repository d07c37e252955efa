"""The generated Azure DevOps organisation: projects, work items with every revision, git
repositories, pull requests (threads, reviewers, commits, linked work items), builds,
classic release deployments and YAML environment deployment records.

Deterministic from the seed (the same ``seeding`` streams and people as the Jira and GitHub
simulators, its own projects and clock anchor), and mutable: ``update``, ``create``,
``move`` and ``delete`` add revisions at an advancing clock, so incremental syncs can be
tested. Times are integer milliseconds, UTC. A build, release deployment or environment
record whose finish lies after the org's ``now_ms`` is still running; as mutations move the
clock on, it finishes.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid

from connectors.sandbox.people import User, make_user
from connectors.sandbox.seeding import mix64, rng
from connectors.sandbox.sizes import SPECS, Size
from connectors.sandbox.timefmt import DAY_MS, HOUR_MS, MINUTE_MS, anchor_ms

STREAM_ADO = 40  # ADO entities draw from streams 40.. so they never overlap the others
S_ITEM, S_PR, S_BUILD, S_RELEASE, S_MUTATION = 40, 41, 42, 43, 44

_PROJECT_NAMES = ("Fabrikam Fiber", "Contoso Web", "Tailspin Toys", "Woodgrove Bank")
# Agile process types; each state with its category (WorkItemStateColor.category).
TYPES: dict[str, tuple[tuple[str, str], ...]] = {
    "User Story": (
        ("New", "Proposed"),
        ("Active", "InProgress"),
        ("Resolved", "Resolved"),
        ("Closed", "Completed"),
        ("Removed", "Removed"),
    ),
    "Bug": (
        ("New", "Proposed"),
        ("Active", "InProgress"),
        ("Resolved", "Resolved"),
        ("Closed", "Completed"),
    ),
    "Task": (
        ("New", "Proposed"),
        ("Active", "InProgress"),
        ("Closed", "Completed"),
        ("Removed", "Removed"),
    ),
}
_TYPE_WEIGHTS = (("User Story", 0.5), ("Bug", 0.3), ("Task", 0.2))
COLUMNS = {"New": "New", "Active": "Doing", "Resolved": "Review", "Closed": "Done"}
VOTES = (10, 10, 5, 0, -5, -10)
PRODUCTION = "Production"


def guid(*parts: int) -> str:
    h = mix64(*parts)
    return str(uuid.UUID(int=(h << 64) | mix64(h, *parts)))


def sha(*parts: int) -> str:
    return "".join(f"{mix64(*parts, k):016x}" for k in range(3))[:40]


@dataclasses.dataclass(frozen=True, slots=True)
class Project:
    index: int
    id: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class Repo:
    index: int
    id: str
    name: str
    project: int


@dataclasses.dataclass(frozen=True, slots=True)
class Revision:
    rev: int
    changed_ms: int
    by: int  # user index
    project: int
    state: str
    assignee: int | None
    title: str


@dataclasses.dataclass
class WorkItemData:
    id: int
    type: str
    created_ms: int
    created_by: int
    priority: int
    story_points: float | None
    team: str  # the custom field "Custom.Team"
    revisions: list[Revision]
    pull_requests: list[int] = dataclasses.field(default_factory=list)  # PR ids linked
    deleted: bool = False

    @property
    def head(self) -> Revision:
        return self.revisions[-1]


@dataclasses.dataclass(frozen=True, slots=True)
class CommitData:
    sha: str
    author: int
    authored_ms: int
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class CommentData:
    id: int
    author: int
    published_ms: int
    content: str
    system: bool


@dataclasses.dataclass(frozen=True, slots=True)
class ThreadData:
    id: int
    published_ms: int
    comments: tuple[CommentData, ...]
    vote: int | None = None  # a system VoteUpdate thread: the vote cast
    voter: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class PullRequestData:
    id: int
    repo: int
    title: str
    author: int
    created_ms: int
    closed_ms: int | None
    status: str  # active | completed | abandoned (as of the org's now)
    source_ref: str
    merge_sha: str | None
    commits: tuple[CommitData, ...]
    reviewers: tuple[tuple[int, int], ...]  # (user, vote)
    threads: tuple[ThreadData, ...]
    work_items: tuple[int, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class BuildData:
    id: int
    repo: int
    definition: str
    sha: str
    branch: str
    queue_ms: int
    start_ms: int
    finish_ms: int
    succeeded: bool


@dataclasses.dataclass(frozen=True, slots=True)
class ReleaseDeploymentData:
    id: int
    release_id: int
    build: int  # build id
    environment: str
    environment_id: int
    queued_ms: int
    started_ms: int
    completed_ms: int
    succeeded: bool


@dataclasses.dataclass(frozen=True, slots=True)
class EnvironmentRecordData:
    id: int
    environment_id: int
    environment: str
    build: int
    queue_ms: int
    start_ms: int
    finish_ms: int
    succeeded: bool


class AdoOrg:
    """The read model the simulator serves, plus the mutations tests apply."""

    def __init__(
        self,
        seed: int = 7,
        size: Size | str = Size.SMALL,
        *,
        work_items: int | None = None,
        pull_requests: int | None = None,
        projects: int = 2,
        name: str = "sandbox",
    ) -> None:
        spec = SPECS[Size(size)]
        self.seed = seed
        self.name = name
        self.now_ms = anchor_ms(seed)
        self.start_ms = self.now_ms - min(spec.history_days, 180) * DAY_MS
        self.users: tuple[User, ...] = tuple(make_user(seed, i) for i in range(spec.users))
        self.projects = tuple(
            Project(i, guid(seed, STREAM_ADO, i), _PROJECT_NAMES[i % len(_PROJECT_NAMES)])
            for i in range(projects)
        )
        self.repos = tuple(
            Repo(i, guid(seed, STREAM_ADO, 100 + i), _slug(p.name) + "-api", p.index)
            for i, p in enumerate(self.projects)
        )
        self.environment_ids = {"Dev": 1, PRODUCTION: 2, "staging": 3, "production": 4}
        self.lock = threading.RLock()
        n_items = spec.issues if work_items is None else work_items
        n_prs = spec.pull_requests if pull_requests is None else pull_requests
        self.items: dict[int, WorkItemData] = {}
        for i in range(n_items):
            item = self._generate_item(i + 1, i % projects)
            self.items[item.id] = item
        self.pull_requests = [self._generate_pr(p) for p in range(n_prs)]
        for pr in self.pull_requests:
            for wid in pr.work_items:
                self.items[wid].pull_requests.append(pr.id)
        self.builds = self._generate_builds()
        self.release_deployments, self.environment_records = self._generate_deployments()
        # The reporting feed: every revision in change order; mutations append.
        order = sorted(
            (r.changed_ms, w.id, r.rev) for w in self.items.values() for r in w.revisions
        )
        self.feed: list[tuple[int, int]] = [(wid, rev) for _, wid, rev in order]
        self._mutations = 0

    # ------------------------------------------------------------------ generation
    def _generate_item(self, wid: int, project: int) -> WorkItemData:
        r = rng(self.seed, S_ITEM, wid)
        roll, kind = r.random(), "Task"
        for name, weight in _TYPE_WEIGHTS:
            if roll < weight:
                kind = name
                break
            roll -= weight
        span = self.now_ms - self.start_ms - 2 * DAY_MS
        created = self.start_ms + int(r.random() * span) // MINUTE_MS * MINUTE_MS
        author = r.randrange(len(self.users))
        title = f"{kind} {wid}: {r.choice(_VERBS)} {r.choice(_NOUNS)}"
        states = [s for s, cat in TYPES[kind] if cat != "Removed"]
        stop = r.choice(range(1, len(states) + 1))
        revs = [Revision(1, created, author, project, "New", None, title)]
        t = created
        assignee: int | None = None
        for state in states[1:stop]:
            t += int(r.uniform(0.5, 72) * HOUR_MS)
            if t >= self.now_ms - MINUTE_MS:
                break
            if assignee is None or r.random() < 0.2:
                assignee = r.randrange(len(self.users))
                revs.append(
                    dataclasses.replace(
                        revs[-1], rev=len(revs) + 1, changed_ms=t, by=author, assignee=assignee
                    )
                )
                t += int(r.uniform(0.1, 4) * HOUR_MS)
            revs.append(
                dataclasses.replace(
                    revs[-1], rev=len(revs) + 1, changed_ms=t, by=assignee, state=state
                )
            )
        if kind != "Bug" and r.random() < 0.04 and t + HOUR_MS < self.now_ms:
            revs.append(
                dataclasses.replace(
                    revs[-1], rev=len(revs) + 1, changed_ms=t + HOUR_MS, state="Removed"
                )
            )
        return WorkItemData(
            id=wid,
            type=kind,
            created_ms=created,
            created_by=author,
            priority=r.randint(1, 4),
            story_points=float(r.choice((1, 2, 3, 5, 8))) if kind == "User Story" else None,
            team=r.choice(("Red", "Blue", "Green")),
            revisions=revs,
        )

    def _generate_pr(self, p: int) -> PullRequestData:
        r = rng(self.seed, S_PR, p)
        repo = self.repos[p % len(self.repos)]
        pid = p + 1
        span = self.now_ms - self.start_ms - DAY_MS
        created = self.start_ms + DAY_MS + int(r.random() * span) // 1000 * 1000
        author = r.randrange(len(self.users))
        closed: int | None = created + int(r.uniform(0.5, 96) * HOUR_MS)
        roll = r.random()
        status = "completed" if roll < 0.75 else "abandoned" if roll < 0.85 else "active"
        if status == "active" or (closed is not None and closed >= self.now_ms):
            status, closed = "active", None
        commits = []
        t = created - int(r.uniform(1, 48) * HOUR_MS)
        for k in range(r.randint(1, 4)):
            commits.append(
                CommitData(sha(self.seed, S_PR, p, k), author, t, f"change {k + 1} of PR {pid}")
            )
            t += int(r.uniform(0.1, 3) * HOUR_MS)
        people = [u for u in r.sample(range(len(self.users)), 4) if u != author][:3]
        reviewers = tuple((u, r.choice(VOTES)) for u in people[: r.randint(1, len(people))])
        end = closed or self.now_ms - MINUTE_MS
        threads: list[ThreadData] = []
        next_comment = 1
        for n in range(r.randint(0, 3)):
            published = created + int(r.random() * max(1, end - created))
            comments = []
            for c in range(r.randint(1, 3)):
                who = r.choice([author, *people])
                comments.append(
                    CommentData(c + 1, who, published + c * MINUTE_MS, f"comment {c + 1}", False)
                )
            threads.append(ThreadData(n + 1, published, tuple(comments)))
            next_comment += 1
        for user, vote in reviewers:
            if vote != 0:
                published = created + int(r.random() * max(1, end - created))
                text = f"{self.users[user].display_name} voted {vote}"
                threads.append(
                    ThreadData(
                        len(threads) + 1,
                        published,
                        (CommentData(1, user, published, text, True),),
                        vote,
                        user,
                    )
                )
        in_project = range(repo.project + 1, len(self.items) + 1, len(self.projects))
        linked = tuple(sorted(r.sample(in_project, min(len(in_project), r.randint(0, 2)))))
        return PullRequestData(
            id=pid,
            repo=repo.index,
            title=f"PR {pid}: {r.choice(_VERBS)} {r.choice(_NOUNS)}",
            author=author,
            created_ms=created,
            closed_ms=closed,
            status=status,
            source_ref=f"refs/heads/feature/{pid}",
            merge_sha=sha(self.seed, S_PR, p, 99) if status == "completed" else None,
            commits=tuple(commits),
            reviewers=reviewers,
            threads=tuple(threads),
            work_items=linked,
        )

    def _generate_builds(self) -> list[BuildData]:
        raw = []
        for pr in self.pull_requests:
            if pr.status != "completed" or pr.closed_ms is None or pr.merge_sha is None:
                continue
            r = rng(self.seed, S_BUILD, pr.id)
            queue = pr.closed_ms + int(r.uniform(1, 10) * MINUTE_MS)
            start = queue + int(r.uniform(0.2, 3) * MINUTE_MS)
            finish = start + int(r.uniform(4, 25) * MINUTE_MS)
            raw.append((queue, start, finish, pr.repo, pr.merge_sha, r.random() < 0.85))
        raw.sort()
        # The newest build already started is still running: a sync must come back to it.
        started = [k for k, (q, st, *_rest) in enumerate(raw) if st < self.now_ms - MINUTE_MS]
        if started:
            q, st, _, repo, s, ok = raw[started[-1]]
            raw[started[-1]] = (q, st, self.now_ms + 30 * MINUTE_MS, repo, s, ok)
        return [
            BuildData(
                i + 1, repo, f"{self.repos[repo].name}-ci", s, "refs/heads/main", q, st, f, ok
            )
            for i, (q, st, f, repo, s, ok) in enumerate(raw)
        ]

    def _generate_deployments(
        self,
    ) -> tuple[list[ReleaseDeploymentData], list[EnvironmentRecordData]]:
        """Project 0 ships with classic releases (Dev, then Production); every other
        project with YAML environments (staging, then production)."""
        classic: list[tuple[int, int, int, int, str, bool]] = []
        yaml: list[tuple[int, int, int, int, str, bool]] = []
        for b in self.builds:
            if not b.succeeded:
                continue
            r = rng(self.seed, S_RELEASE, b.id)
            first = b.finish_ms + int(r.uniform(2, 10) * MINUTE_MS)
            second = first + int(r.uniform(0.5, 6) * HOUR_MS)
            ok = r.random() < 0.9
            envs = (
                ("Dev", PRODUCTION)
                if self.repos[b.repo].project == 0
                else ("staging", "production")
            )
            target = classic if self.repos[b.repo].project == 0 else yaml
            target.append((first, first + 4 * MINUTE_MS, b.id, 0, envs[0], True))
            target.append((second, second + 9 * MINUTE_MS, b.id, 1, envs[1], ok))
        classic.sort()
        yaml.sort()
        release_ids: dict[int, int] = {}
        releases = []
        for i, (start, end, build, _, env, ok) in enumerate(classic):
            rid = release_ids.setdefault(build, len(release_ids) + 1)
            releases.append(
                ReleaseDeploymentData(
                    i + 1,
                    rid,
                    build,
                    env,
                    self.environment_ids[env],
                    start - MINUTE_MS,
                    start,
                    end,
                    ok,
                )
            )
        records = [
            EnvironmentRecordData(
                i + 1, self.environment_ids[env], env, build, start - MINUTE_MS, start, end, ok
            )
            for i, (start, end, build, _, env, ok) in enumerate(yaml)
        ]
        return releases, records

    # ------------------------------------------------------------------ read helpers
    def project_by_name(self, name: str) -> Project | None:
        for p in self.projects:
            if p.name.lower() == name.lower() or p.id == name.lower():
                return p
        return None

    def repo_by_id(self, rid: str) -> Repo | None:
        for r in self.repos:
            if r.id == rid.lower() or r.name.lower() == rid.lower():
                return r
        return None

    def build(self, bid: int) -> BuildData:
        return self.builds[bid - 1]

    def pull_request(self, pid: int) -> PullRequestData:
        return self.pull_requests[pid - 1]

    def alive(self) -> list[WorkItemData]:
        return [w for w in self.items.values() if not w.deleted]

    # ------------------------------------------------------------------ mutations
    def _tick(self) -> int:
        self.now_ms += MINUTE_MS
        return self.now_ms

    def _append(self, item: WorkItemData, **changes: object) -> None:
        head = item.head
        rev = dataclasses.replace(head, rev=head.rev + 1, changed_ms=self._tick(), **changes)  # type: ignore[arg-type]
        item.revisions.append(rev)
        self.feed.append((item.id, rev.rev))

    def update(self, count: int) -> list[int]:
        """Move ``count`` live work items one state on (or reassign finished ones)."""
        with self.lock:
            r = rng(self.seed, S_MUTATION, self._mutations)
            self._mutations += 1
            chosen = r.sample([w.id for w in self.alive()], count)
            for wid in chosen:
                item = self.items[wid]
                states = [s for s, cat in TYPES[item.type] if cat != "Removed"]
                head = item.head
                if head.state in states and states.index(head.state) + 1 < len(states):
                    nxt = states[states.index(head.state) + 1]
                    self._append(item, state=nxt, assignee=head.assignee or 0, by=0)
                else:
                    self._append(item, assignee=r.randrange(len(self.users)), by=0)
            return chosen

    def create(self, count: int, project: int = 0) -> list[int]:
        with self.lock:
            ids = []
            for _ in range(count):
                wid = max(self.items) + 1
                now = self._tick()
                item = WorkItemData(
                    wid,
                    "Bug",
                    now,
                    0,
                    2,
                    None,
                    "Red",
                    [Revision(1, now, 0, project, "New", None, f"Bug {wid}: new")],
                )
                self.items[wid] = item
                self.feed.append((wid, 1))
                ids.append(wid)
            return ids

    def move(self, wid: int, project: int) -> None:
        with self.lock:
            self._append(self.items[wid], project=project, by=0)

    def delete(self, wid: int) -> None:
        """To the recycle bin: the item leaves queries and batches; revisions stay."""
        with self.lock:
            self.items[wid].deleted = True
            self._tick()

    def complete_pull_request(self, pid: int) -> None:
        """Merge an active pull request now (its build and deployments are not generated)."""
        with self.lock:
            pr = self.pull_requests[pid - 1]
            if pr.status != "active":
                raise ValueError(f"pull request {pid} is {pr.status}")
            self.pull_requests[pid - 1] = dataclasses.replace(
                pr,
                status="completed",
                closed_ms=self._tick(),
                merge_sha=sha(self.seed, S_PR, pid - 1, 99),
            )

    def unlink(self, pid: int, wid: int) -> None:
        """Remove the link between a pull request and a work item (both sides)."""
        with self.lock:
            pr = self.pull_requests[pid - 1]
            self.pull_requests[pid - 1] = dataclasses.replace(
                pr, work_items=tuple(w for w in pr.work_items if w != wid)
            )
            self.items[wid].pull_requests.remove(pid)
            self._append(self.items[wid], by=0)  # a relation change is a new revision

    def advance(self, ms: int) -> None:
        """Let time pass (running builds and deployments finish)."""
        with self.lock:
            self.now_ms += ms


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


_VERBS = ("Fix", "Add", "Refactor", "Speed up", "Document", "Harden", "Remove")
_NOUNS = ("login", "checkout", "search index", "billing export", "retry policy", "dashboard")
