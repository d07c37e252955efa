"""The generated organisation: one object the simulators read from, and the mutation API.

``Org(seed, size)`` is deterministic: the same arguments give the same users, projects,
issues, pull requests and deployments, and the same bytes from every simulator. Its clock
(``now_ms``) starts at a seed-derived instant and only moves when the org is mutated.

Read model for simulators
-------------------------
- ``users``, ``automation``, ``clients``, ``projects``, ``repositories``: small tuples.
- ``issue(index)`` / ``find_issue(id_or_key)``: the current state of an issue (None once
  deleted). ``issues_for_pull_request`` and ``pull_requests_for_issue`` link both sides.
- ``pull_request(index)``, ``repository_pull_requests(repo)`` (indices in number order),
  ``pull_requests_by_updated(repo, version)`` for ``orderBy: UPDATED_AT``; ``oversize``
  gives chosen pull requests hundreds of commits, comments and reviews.
- ``deployments(repo, env)`` count and ``deployment(repo, env, slot)``.
- ``ordering(version, field)`` + ``state_at(index, version)``: the snapshot used by paging.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterator, Mapping

from connectors.sandbox import deploy_schedule as ds
from connectors.sandbox.catalog import STATUS_BY_NAME, Status, StatusCategory, workflow_for
from connectors.sandbox.code_model import Deployment, PullRequest
from connectors.sandbox.deployments import generate_deployment
from connectors.sandbox.issue_detail import DetailContext, generate_issue
from connectors.sandbox.issue_model import History, HistoryItem, Issue
from connectors.sandbox.issue_skeleton import FLAG_UNTOUCHED, IssueSkeletons, build_skeletons
from connectors.sandbox.mutations import IssueChange, MutationPlan, MutationReport
from connectors.sandbox.people import User, automation_user, make_user
from connectors.sandbox.pull_requests import (
    Oversize,
    PullRequestSkeletons,
    build_pr_skeletons,
    generate_pull_request,
)
from connectors.sandbox.seeding import STREAM_MUTATION, rng
from connectors.sandbox.sizes import SPECS, Size
from connectors.sandbox.structure import Client, Project, Repository, build_structure
from connectors.sandbox.timefmt import DAY_MS, MINUTE_MS, anchor_ms

ORDER_UPDATED = "updated"
ORDER_ID = "id"  # also creation order
ORDER_KEY = "key"
_IDX_BITS = 21  # up to two million issues
_IDX_MASK = (1 << _IDX_BITS) - 1
_KEPT_SNAPSHOTS = 8
_FIRST_MUTATION_HISTORY_ID = 900_000_000


@dataclasses.dataclass(frozen=True, slots=True)
class IssueState:
    """An issue as a search at some version sees it."""

    project: int
    number: int
    updated_ms: int
    alive: bool


class Org:
    def __init__(
        self,
        seed: int = 7,
        size: Size | str = Size.SMALL,
        oversize: Mapping[int, Oversize] | None = None,
        *,
        now_ms: int | None = None,
    ) -> None:
        """``oversize``: pull request index -> its exact commit, comment and review counts
        (for nested pagination); every other pull request is generated as usual.
        ``now_ms``: the org's "now" (a whole minute), where its history ends; default the
        seed's fixed instant (``anchor_ms``), so tests see the same org every time."""
        self.seed = seed
        self.oversize = dict(oversize or {})
        self.size = Size(size)
        self.spec = SPECS[self.size]
        if now_ms is not None and now_ms % MINUTE_MS:
            raise ValueError("now_ms must be a whole minute")
        self.base_now_ms = anchor_ms(seed) if now_ms is None else now_ms
        self.now_ms = self.base_now_ms
        self.start_ms = self.base_now_ms - self.spec.history_days * DAY_MS
        self.users: tuple[User, ...] = tuple(make_user(seed, i) for i in range(self.spec.users))
        self.automation = automation_user(seed)
        self.structure = build_structure(seed, self.spec, self.spec.users, self.start_ms)
        self._lock = threading.RLock()
        self._issues: IssueSkeletons | None = None
        self._prs: PullRequestSkeletons | None = None
        self.version = 0
        self._base_count = self.spec.issues
        self._changes: dict[int, list[IssueChange]] = {}
        self._born: dict[int, int] = {}  # created-by-mutation issue index -> version
        self._moved_keys: dict[str, int] = {}
        self._force_pushes: dict[int, tuple[int, ...]] = {}
        self._orderings: OrderedDict[tuple[int, str], array[int]] = OrderedDict()
        self._mutation_history_ids = _FIRST_MUTATION_HISTORY_ID
        self._project_by_key = {p.key: p for p in self.structure.projects}
        self._key_rank = {
            p.index: r for r, p in enumerate(sorted(self.structure.projects, key=lambda p: p.key))
        }

    # ----------------------------------------------------------------------- structure
    @property
    def clients(self) -> tuple[Client, ...]:
        return self.structure.clients

    @property
    def projects(self) -> tuple[Project, ...]:
        return self.structure.projects

    @property
    def repositories(self) -> tuple[Repository, ...]:
        return self.structure.repositories

    def project_by_key(self, key: str) -> Project | None:
        return self._project_by_key.get(key.upper())

    def user(self, index: int) -> User:
        return self.automation if index < 0 else self.users[index]

    # ----------------------------------------------------------------------- skeletons
    @property
    def skeletons(self) -> IssueSkeletons:
        if self._issues is None:
            with self._lock:
                if self._issues is None:
                    self._issues = build_skeletons(
                        self.seed, self.structure, self._base_count, self.start_ms, self.base_now_ms
                    )
        return self._issues

    @property
    def pr_skeletons(self) -> PullRequestSkeletons:
        if self._prs is None:
            sk = self.skeletons
            with self._lock:
                if self._prs is None:
                    self._prs = build_pr_skeletons(
                        self.seed,
                        self.structure,
                        sk,
                        self.spec.pull_requests,
                        self.start_ms,
                        self.base_now_ms,
                    )
        return self._prs

    def warm_up(self) -> None:
        """Build the skeletons now (a server does this before it starts listening)."""
        _ = self.pr_skeletons

    # ----------------------------------------------------------------------- issues
    @property
    def issue_count(self) -> int:
        """Issues ever created (including deleted ones)."""
        return len(self.skeletons)

    def base_key(self, index: int) -> str:
        sk = self.skeletons
        return f"{self.projects[sk.project[index]].key}-{sk.number[index]}"

    @functools.cached_property
    def _detail_context(self) -> DetailContext:
        return DetailContext(self.seed, self.structure, self.skeletons, self.users, self.start_ms)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - the org lives as long as its cache
    def _generated(self, index: int) -> Issue:
        return generate_issue(self._detail_context, index)

    def issue(self, index: int) -> Issue | None:
        """The current state of issue ``index``, or None if it does not exist (any more)."""
        if not 0 <= index < self.issue_count:
            return None
        base = self._generated(index)
        changes = self._changes.get(index)
        if not changes:
            return base
        last = changes[-1]
        if last.deleted:
            return None
        extra = tuple(h for c in changes for h in c.extra_histories)
        status_id = next((c.status_id for c in reversed(changes) if c.status_id), base.status_id)
        done = next(s for s in _all_statuses() if s.id == status_id).category is StatusCategory.DONE
        return dataclasses.replace(
            base,
            key=f"{self.projects[last.project].key}-{last.number}",
            project=last.project,
            status_id=status_id,
            summary=last.summary or base.summary,
            updated_ms=last.updated_ms,
            histories=base.histories + extra,
            resolution=("10000", "Done") if done else None,
            resolved_ms=(last.resolved_ms or base.resolved_ms) if done else None,
        )

    def find_issue(self, id_or_key: str) -> Issue | None:
        """Resolve an issue id or key; a moved issue's old key still resolves."""
        index = self.index_of(id_or_key)
        return None if index is None else self.issue(index)

    def index_of(self, id_or_key: str) -> int | None:
        text = id_or_key.strip()
        if text.isdigit():
            index = int(text) - 10001
            return index if 0 <= index < self.issue_count else None
        if text.upper() in self._moved_keys:
            return self._moved_keys[text.upper()]
        project_key, _, number = text.upper().rpartition("-")
        project = self._project_by_key.get(project_key)
        if project is None or not number.isdigit():
            return None
        numbers = self.skeletons.by_project[project.index]
        n = int(number)
        return numbers[n - 1] if 0 < n <= len(numbers) else None

    def state_at(self, index: int, version: int) -> IssueState:
        """What a search pinned at ``version`` knows of the issue (for filtering/order)."""
        sk = self.skeletons
        born = self._born.get(index, 0)
        if born > version:
            return IssueState(sk.project[index], sk.number[index], sk.updated[index], False)
        state = IssueState(sk.project[index], sk.number[index], sk.updated[index], True)
        for change in self._changes.get(index, ()):
            if change.version > version:
                break
            state = IssueState(change.project, change.number, change.updated_ms, not change.deleted)
        return state

    def ordering(self, version: int, order: str) -> array[int]:
        """Issue indices alive at ``version`` as ascending composite sort keys.

        The low bits of every key are the issue index, so keys are unique: a cursor made of
        the last key returned picks up exactly after it, whatever changes meanwhile.
        """
        cache_key = (version, order)
        with self._lock:
            cached = self._orderings.get(cache_key)
            if cached is not None:
                self._orderings.move_to_end(cache_key)
                return cached
            keys = array("q", sorted(self._sort_keys(version, order)))
            self._orderings[cache_key] = keys
            while len(self._orderings) > _KEPT_SNAPSHOTS:
                self._orderings.popitem(last=False)
            return keys

    def _sort_keys(self, version: int, order: str) -> Iterator[int]:
        sk = self.skeletons
        touched = {i for i in self._changes if i < len(sk)} | set(self._born)
        origin = self.sort_origin_ms
        updated_order = order == ORDER_UPDATED
        for i in range(len(sk)):
            if i in touched:
                key = self.sort_key(i, version, order)
                if key is not None:
                    yield key
            elif updated_order:  # the common case, inlined: this loop runs over every issue
                yield ((sk.updated[i] - origin) << _IDX_BITS) | i
            else:
                yield self._compose(order, i, sk.project[i], sk.number[i], sk.updated[i])

    @property
    def sort_origin_ms(self) -> int:
        return self.start_ms - 10 * 365 * DAY_MS

    def sort_key(self, index: int, version: int, order: str) -> int | None:
        """The issue's position key in ``ordering(version, order)``; None if not alive."""
        st = self.state_at(index, version)
        if not st.alive:
            return None
        return self._compose(order, index, st.project, st.number, st.updated_ms)

    def _compose(self, order: str, index: int, project: int, number: int, updated: int) -> int:
        if order == ORDER_UPDATED:
            return ((updated - self.sort_origin_ms) << _IDX_BITS) | index
        if order == ORDER_KEY:
            return (self._key_rank[project] << 50) | (number << _IDX_BITS) | index
        return index

    def updated_sort_key(self, updated_ms: int) -> int:
        """The smallest ``updated`` ordering key at or after ``updated_ms``."""
        return (updated_ms - self.sort_origin_ms) << _IDX_BITS

    @staticmethod
    def index_from_sort_key(sort_key: int) -> int:
        return sort_key & _IDX_MASK

    # ----------------------------------------------------------------------- code
    def pull_request(self, index: int) -> PullRequest:
        return self._pull_request(index, self._force_pushes.get(index, ()))

    @functools.lru_cache(maxsize=4096)  # noqa: B019
    def _pull_request(self, index: int, pushes: tuple[int, ...]) -> PullRequest:
        return generate_pull_request(
            self.seed,
            self.structure,
            self.pr_skeletons,
            self.users,
            self.base_key,
            index,
            pushes,
            self.base_now_ms,
            self.oversize.get(index),
        )

    @property
    def pull_request_count(self) -> int:
        return len(self.pr_skeletons)

    def repository_pull_requests(self, repo: int) -> array[int]:
        """Pull request indices of a repository in number order (number n at n - 1)."""
        return self.pr_skeletons.by_repository[repo]

    def pull_requests_by_updated(self, repo: int) -> list[int]:
        """Pull request indices of a repository, least recently updated first."""
        return sorted(
            self.repository_pull_requests(repo), key=lambda j: (self.pull_request(j).updated_ms, j)
        )

    def pull_requests_for_issue(self, index: int) -> list[PullRequest]:
        return [self.pull_request(j) for j in self.pr_skeletons.by_issue.get(index, ())]

    def deployment_slots(self, repo: int, env: ds.Environment) -> int:
        """How many deployments a repository has had to ``env`` (slots 0..n-1)."""
        n = ds.slot_count(self.start_ms, self.base_now_ms, env)
        while n and ds.slot_time(self.seed, self.start_ms, repo, env, n - 1) > self.base_now_ms:
            n -= 1
        return n

    def deployment(self, repo: int, env: ds.Environment, slot: int) -> Deployment:
        return generate_deployment(
            self.seed,
            self.structure,
            self.skeletons,
            self.pr_skeletons,
            self.start_ms,
            repo,
            env,
            slot,
        )

    # ----------------------------------------------------------------------- mutations
    def _tick(self) -> int:
        """Advance the clock a few minutes and open a new version; returns the new now."""
        self.version += 1
        self.now_ms += (1 + self.version % 4) * MINUTE_MS
        return self.now_ms

    def _next_history_id(self) -> int:
        self._mutation_history_ids += 1
        return self._mutation_history_ids

    def _record(self, index: int, **fields: object) -> None:
        current = self.state_at(index, self.version)
        history = self._changes.get(index)
        prev = history[-1] if history else None
        change = IssueChange(
            version=self.version,
            updated_ms=self.now_ms,
            project=current.project,
            number=current.number,
            deleted=False,
            status_id=prev.status_id if prev else None,
            summary=prev.summary if prev else None,
            resolved_ms=prev.resolved_ms if prev else None,
            extra_histories=(),
        )
        self._changes.setdefault(index, []).append(dataclasses.replace(change, **fields))  # type: ignore[arg-type]

    def apply(self, plan: MutationPlan) -> MutationReport:
        """Make the changes of ``plan`` as one new version; choices are seeded, so two orgs
        with the same seed given the same plans end up identical."""
        with self._lock:
            now = self._tick()
            r = rng(self.seed, STREAM_MUTATION, self.version)
            sk = self.skeletons
            alive = (
                [i for i in range(len(sk)) if self.state_at(i, self.version).alive]
                if plan.update + plan.move + plan.delete
                else []
            )
            picks = r.sample(alive, min(len(alive), plan.update + plan.move + plan.delete))
            updated = tuple(self._update(i, now) for i in picks[: plan.update])
            moved = tuple(self._move(i) for i in picks[plan.update : plan.update + plan.move])
            deleted = tuple(self._delete(i) for i in picks[plan.update + plan.move :])
            created = tuple(
                self._create(r.randrange(len(self.projects)), now) for _ in range(plan.create)
            )
            pushed = []
            n_prs = self.pull_request_count
            for j in r.sample(range(n_prs), min(n_prs, plan.force_push)):
                self._force_pushes[j] = (*self._force_pushes.get(j, ()), now)
                pr = self.pull_request(j)
                pushed.append(f"{self.repositories[pr.repository].full_name}#{pr.number}")
            return MutationReport(self.version, created, updated, moved, deleted, tuple(pushed))

    def _create(self, project: int, now: int) -> str:
        sk = self.skeletons
        index = len(sk)
        sk.project.append(project)
        sk.by_project[project].append(index)
        sk.number.append(len(sk.by_project[project]))
        sk.type.append(0)
        sk.created.append(now)
        sk.updated.append(now)
        sk.flags.append(FLAG_UNTOUCHED)
        self._born[index] = self.version
        return self.base_key(index)

    def _update(self, index: int, now: int) -> str:
        issue = self.issue(index)
        assert issue is not None
        workflow = workflow_for(issue.type, self.projects[issue.project].team_managed)
        path = workflow.path
        current = next(s for s in _all_statuses() if s.id == issue.status_id)
        if current in path and path.index(current) < len(path) - 1:
            nxt = path[path.index(current) + 1]
            item = HistoryItem(
                "status", "jira", "status", current.id, current.name, nxt.id, nxt.name
            )
            history = History(self._next_history_id(), issue.assignee or -1, now, (item,))
            done = nxt.category is StatusCategory.DONE
            self._record(
                index,
                status_id=nxt.id,
                resolved_ms=now if done else None,
                extra_histories=(history,),
            )
        else:
            summary = f"{issue.summary} (follow-up)"
            item = HistoryItem("summary", "jira", "summary", None, issue.summary, None, summary)
            history = History(self._next_history_id(), issue.reporter, now, (item,))
            self._record(index, summary=summary, extra_histories=(history,))
        return self.issue(index).key  # type: ignore[union-attr]

    def _move(self, index: int) -> tuple[str, str]:
        issue = self.issue(index)
        assert issue is not None
        target = (issue.project + 1) % len(self.projects)
        sk = self.skeletons
        sk.by_project[target].append(index)
        number = len(sk.by_project[target])
        old, new = self.projects[issue.project], self.projects[target]
        new_key = f"{new.key}-{number}"
        items = (
            HistoryItem("project", "jira", "project", old.id, old.name, new.id, new.name),
            HistoryItem("Key", "jira", None, None, issue.key, None, new_key),
        )
        history = History(self._next_history_id(), issue.reporter, self.now_ms, items)
        self._record(index, project=target, number=number, extra_histories=(history,))
        self._moved_keys[issue.key] = index
        self._moved_keys[new_key] = index
        return issue.key, new_key

    def _delete(self, index: int) -> str:
        key = self.issue(index).key  # type: ignore[union-attr]
        self._record(index, deleted=True)
        return key

    def create_issues(self, count: int) -> MutationReport:
        return self.apply(MutationPlan(create=count))

    def update_issues(self, count: int) -> MutationReport:
        return self.apply(MutationPlan(update=count))


def _all_statuses() -> tuple[Status, ...]:
    return tuple(STATUS_BY_NAME.values())
