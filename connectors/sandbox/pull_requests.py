"""Pull requests: which exist (a skeleton built once from the issue skeleton) and what each
contains (generated on demand from (seed, index)).

Most pull requests implement a Jira issue: they open while the issue is in progress, carry
its key in title and branch, and merge before the issue finishes. About a tenth are chores
(dependency bumps) with no key. Numbers per repository follow creation order, like GitHub's.
"""

from __future__ import annotations

import hashlib
import random
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from connectors.sandbox.catalog import TYPE_EPIC, TYPE_INCIDENT
from connectors.sandbox.code_model import ChangedFile, Comment, Commit, PullRequest, Review
from connectors.sandbox.issue_skeleton import FLAG_DONE, FLAG_UNTOUCHED, IssueSkeletons
from connectors.sandbox.people import GITHUB_BOTS, User
from connectors.sandbox.seeding import STREAM_PULL_REQUEST, mix64, unit
from connectors.sandbox.structure import Structure, node_id
from connectors.sandbox.timefmt import HOUR_MS, MINUTE_MS

STATE_OPEN, STATE_MERGED, STATE_CLOSED = 0, 1, 2
STATE_NAMES = ("OPEN", "MERGED", "CLOSED")
_DIRS = ("src/api", "src/web", "src/core", "tests", "docs", "migrations")
_SLUG_WORDS = ("fix", "add", "handle", "retry", "cache", "export", "filter", "cleanup")


@dataclass(frozen=True, slots=True)
class Oversize:
    """Exact child counts for one pull request, past the generator's usual few: nested
    connections then need several pages (GitHub lists at most 250 commits of a PR)."""

    commits: int = 250
    comments: int = 120  # about half conversation comments, half review threads
    reviews: int = 60

    def __post_init__(self) -> None:
        if not all(1 <= n <= _OVERSIZE_MAX for n in (self.commits, self.comments, self.reviews)):
            raise ValueError(f"oversize counts must be 1..{_OVERSIZE_MAX}")


_OVERSIZE_MAX = 1000
_OVERSIZE_IDS = 100_000_000  # database ids of oversize children, clear of the usual ones


def _child_id(base: int, index: int, k: int) -> int:
    """A review's or comment's database id: eight slots a pull request, and a range of
    its own for the children of an oversize one."""
    return base + index * 8 + k if k < 8 else base + _OVERSIZE_IDS + index * _OVERSIZE_MAX + k


def sha40(*parts: object) -> str:
    """A 40-hex git object id, stable for the same parts."""
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


@dataclass(slots=True)
class PullRequestSkeletons:
    repository: array[int] = field(default_factory=lambda: array("H"))
    number: array[int] = field(default_factory=lambda: array("L"))
    issue: array[int] = field(default_factory=lambda: array("l"))  # -1: no Jira issue
    state: array[int] = field(default_factory=lambda: array("B"))
    created: array[int] = field(default_factory=lambda: array("q"))
    closed: array[int] = field(default_factory=lambda: array("q"))  # 0 while open
    by_repository: list[array[int]] = field(default_factory=list)  # PR indices by number
    by_issue: dict[int, list[int]] = field(default_factory=dict)
    # Per repository: merge times ascending and the merged PR indices, for deployments.
    merged_ms: list[array[int]] = field(default_factory=list)
    merged_pr: list[array[int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.created)


def build_pr_skeletons(
    seed: int, structure: Structure, sk: IssueSkeletons, target: int, start_ms: int, now_ms: int
) -> PullRequestSkeletons:
    eligible = sum(
        1
        for i in range(len(sk))
        if sk.type[i] not in (TYPE_EPIC, TYPE_INCIDENT) and not sk.flags[i] & FLAG_UNTOUCHED
    )
    linked_target = int(target * 0.9)
    p_link = min(1.0, linked_target / max(1, eligible * 1.25))
    raw: list[tuple[int, int, int, int, int]] = []  # created, repo, issue, state, closed
    for i in range(len(sk)):
        if sk.type[i] in (TYPE_EPIC, TYPE_INCIDENT) or sk.flags[i] & FLAG_UNTOUCHED:
            continue
        if unit(seed, STREAM_PULL_REQUEST, i, 0) >= p_link or len(raw) >= linked_target:
            continue
        repos = structure.projects[sk.project[i]].repositories
        created_i, updated_i = sk.created[i], sk.updated[i]
        span = max(updated_i - created_i, 2 * MINUTE_MS)
        count = 2 if unit(seed, STREAM_PULL_REQUEST, i, 1) < 0.25 else 1
        for k in range(count):
            u = unit(seed, STREAM_PULL_REQUEST, i, 2 + k)
            created = created_i + int(span * (0.1 + 0.3 * u))
            repo = repos[int(unit(seed, STREAM_PULL_REQUEST, i, 5 + k) * len(repos))]
            if sk.flags[i] & FLAG_DONE:
                state = STATE_CLOSED if u > 0.92 else STATE_MERGED
                closed = created + int(span * (0.2 + 0.4 * u))
            elif u < 0.6:
                state, closed = STATE_OPEN, 0
            else:
                state, closed = STATE_MERGED, created + int((now_ms - created) * 0.5 * u)
            raw.append((created, repo, i, state, closed))
    for c in range(target - len(raw)):
        # Chores: dependency bumps spread over the whole period, no Jira key.
        u = unit(seed, STREAM_PULL_REQUEST, 10_000_000 + c, 0)
        created = start_ms + int((now_ms - start_ms) * u)
        repo = int(unit(seed, STREAM_PULL_REQUEST, 10_000_000 + c, 1) * len(structure.repositories))
        closed = created + int(HOUR_MS * (1 + 40 * u))
        state = STATE_OPEN if closed > now_ms else (STATE_MERGED if u < 0.8 else STATE_CLOSED)
        raw.append((created, repo, -1, state, 0 if state == STATE_OPEN else min(closed, now_ms)))
    raw.sort()
    pk = PullRequestSkeletons()
    pk.by_repository = [array("L") for _ in structure.repositories]
    merged: list[list[tuple[int, int]]] = [[] for _ in structure.repositories]
    for j, (created, repo, issue, state, closed) in enumerate(raw):
        pk.repository.append(repo)
        pk.by_repository[repo].append(j)
        pk.number.append(len(pk.by_repository[repo]))
        pk.issue.append(issue)
        pk.state.append(state)
        pk.created.append(created)
        pk.closed.append(closed)
        if issue >= 0:
            pk.by_issue.setdefault(issue, []).append(j)
        if state == STATE_MERGED:
            merged[repo].append((closed, j))
    for rows in merged:
        rows.sort()
        pk.merged_ms.append(array("q", (t for t, _ in rows)))
        pk.merged_pr.append(array("L", (j for _, j in rows)))
    return pk


def generate_pull_request(
    seed: int,
    structure: Structure,
    pk: PullRequestSkeletons,
    users: Sequence[User],
    key_of: Callable[[int], str],
    index: int,
    force_pushed_ms: tuple[int, ...] = (),
    now_ms: int = 0,
    oversize: Oversize | None = None,
) -> PullRequest:
    """One pull request. ``key_of(k)`` is the key issue ``k`` had when the PR was opened: a
    PR's title and branch keep that key even after the issue moves to another project.
    ``oversize`` replaces the drawn numbers of commits, reviews and comments."""
    r = random.Random(mix64(seed, STREAM_PULL_REQUEST, index, 99))
    repo = structure.repositories[pk.repository[index]]
    project = structure.projects[repo.project]
    logins = [login for m in project.members if (login := users[m].github_login)]
    issue = pk.issue[index]
    key = key_of(issue) if issue >= 0 else None
    author = r.choice(logins) if key and logins else r.choice(GITHUB_BOTS)
    created, closed = pk.created[index], pk.closed[index]
    state = STATE_NAMES[pk.state[index]]
    end = closed or max(created + HOUR_MS, min(now_ms, created + 72 * HOUR_MS))
    slug = "-".join(r.sample(_SLUG_WORDS, 2))
    if key:
        prefix = "bugfix" if r.random() < 0.3 else "feature"
        head_ref = (
            f"{prefix}/{key}-{slug}" if r.random() < 0.8 else f"{prefix}/{key.lower()}-{slug}"
        )
        title = (
            f"{key}: {slug.replace('-', ' ').capitalize()}"
            if r.random() < 0.7
            else f"[{key}] {slug.replace('-', ' ')}"
        )
    else:
        dep = r.choice(("lodash", "requests", "urllib3", "react", "pydantic"))
        head_ref = f"dependabot/pip/{dep}-{r.randrange(2, 9)}.{r.randrange(30)}.{r.randrange(9)}"
        title = f"Bump {dep} from 1.{r.randrange(9)}.0 to 1.{r.randrange(10, 20)}.0"
    pushes = len(force_pushed_ms)
    n_commits = 1 + int(r.expovariate(0.4)) % 12
    if oversize is not None:
        n_commits = oversize.commits
    coding_start = created - int(r.random() * 24 * HOUR_MS)
    commits = []
    for c in range(n_commits):
        authored = coding_start + int((end - coding_start) * (c + r.random()) / (n_commits + 1))
        who = next((u for u in users if u.github_login == author), None)
        commits.append(
            Commit(
                oid=sha40(seed, "commit", index, pushes, c),
                message=f"{key + ' ' if key and c == 0 else ''}{r.choice(_SLUG_WORDS)} "
                f"{r.choice(_DIRS)}",
                author_login=author,
                author_name=who.display_name if who else author,
                author_email=(
                    who.email if who and who.email else f"{author}@users.noreply.github.com"
                ),
                authored_ms=authored,
                committed_ms=authored + int(r.random() * MINUTE_MS * 5),
                additions=r.randrange(1, 200),
                deletions=r.randrange(0, 80),
            )
        )
    reviewers = [login for login in logins if login != author] or [author]
    reviews = []
    t = created
    n_reviews = r.choice((0, 1, 1, 2, 3)) if key else 0
    for k in range(oversize.reviews if oversize else n_reviews):
        t += int((end - t) * r.uniform(0.1, 0.6))
        last = k == 2 or r.random() < 0.5
        state_r = (
            "APPROVED"
            if last and state == "MERGED"
            else r.choice(("CHANGES_REQUESTED", "COMMENTED", "APPROVED"))
        )
        reviews.append(
            Review(
                database_id=_child_id(900_000_000, index, k),
                node_id=node_id("PRR_kwDO", mix64(seed, STREAM_PULL_REQUEST, index, 200 + k)),
                author_login=r.choice(reviewers),
                state=state_r,
                submitted_ms=t,
                body="" if state_r == "APPROVED" else "Please have another look at the error path.",
            )
        )
    comments = []
    n_comments = r.choice((0, 0, 1, 2, 4))
    for k in range(oversize.comments if oversize else n_comments):
        kind = "review" if r.random() < 0.5 else "issue"
        comments.append(
            Comment(
                database_id=_child_id(1_500_000_000, index, k),
                node_id=node_id(
                    "IC_kwDO" if kind == "issue" else "PRRC_kwDO",
                    mix64(seed, STREAM_PULL_REQUEST, index, 300 + k),
                ),
                author_login=r.choice([*reviewers, author]),
                kind=kind,
                created_ms=created + int((end - created) * r.random()),
                body="LGTM" if r.random() < 0.4 else "Could we add a test for this?",
                path=f"{r.choice(_DIRS)}/module_{r.randrange(40)}.py" if kind == "review" else None,
            )
        )
    comments.sort(key=lambda cm: cm.created_ms)
    files = tuple(
        ChangedFile(
            f"{r.choice(_DIRS)}/module_{r.randrange(40)}.py",
            r.randrange(1, 150),
            r.randrange(0, 60),
            r.choice(("MODIFIED", "MODIFIED", "ADDED", "DELETED", "RENAMED")),
        )
        for _ in range(1 + r.randrange(8))
    )
    merged_ms = closed if state == "MERGED" else None
    activity = [
        created,
        *(x.submitted_ms for x in reviews),
        *(x.created_ms for x in comments),
        *force_pushed_ms,
    ]
    if closed:
        activity.append(closed)
    return PullRequest(
        index=index,
        repository=repo.index,
        number=pk.number[index],
        database_id=1_000_000_000 + index,
        node_id=node_id("PR_kwDO", mix64(seed, STREAM_PULL_REQUEST, index, 100)),
        title=title,
        body=f"Implements {key}." if key else "Bumps a dependency.",
        state=state,
        is_draft=state == "OPEN" and r.random() < 0.15,
        author_login=author,
        base_ref=repo.default_branch,
        head_ref=head_ref,
        head_oid=commits[-1].oid,
        base_oid=sha40(seed, "base", index),
        created_ms=created,
        updated_ms=max(activity),
        closed_ms=closed or None,
        merged_ms=merged_ms,
        merged_by=r.choice(reviewers) if merged_ms else None,
        merge_commit_oid=merge_commit_oid(seed, index) if merged_ms else None,
        jira_key=key,
        issue_index=issue if issue >= 0 else None,
        commits=tuple(commits),
        reviews=tuple(reviews),
        comments=tuple(comments),
        files=files,
        force_pushed_ms=force_pushed_ms,
    )


def merge_commit_oid(seed: int, index: int) -> str:
    return sha40(seed, "merge", index)
