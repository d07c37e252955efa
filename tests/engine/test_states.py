from __future__ import annotations

import itertools

import pytest

from pulse_console.engine.states import (
    TRANSITIONS,
    IllegalTransition,
    JobStatus,
    check_transition,
)

S = JobStatus
DESIGN_TRANSITIONS = {
    (S.PENDING, S.RUNNING),
    (S.RUNNING, S.FINISHED),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.PAUSED),
    (S.PAUSED, S.RUNNING),
    (S.FAILED, S.PENDING),
}


@pytest.mark.parametrize(("current", "target"), sorted(DESIGN_TRANSITIONS))
def test_every_design_transition_is_allowed(current: JobStatus, target: JobStatus) -> None:
    check_transition("jira_sync", current, target)


ILLEGAL = [
    (a, b) for a, b in itertools.product(S, S) if b not in TRANSITIONS[a]
]  # includes every X → X


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_every_illegal_transition_is_refused_with_a_clear_message(
    current: JobStatus, target: JobStatus
) -> None:
    with pytest.raises(IllegalTransition, match=f"jira_sync: cannot go from {current} to {target}"):
        check_transition("jira_sync", current, target)


def test_paused_only_leaves_by_resume() -> None:
    assert TRANSITIONS[S.PAUSED] == {S.RUNNING}
    with pytest.raises(IllegalTransition, match="never marked finished"):
        check_transition("github_sync", S.PAUSED, S.FINISHED)


def test_only_a_run_can_fail() -> None:
    with pytest.raises(IllegalTransition, match="only a run can fail"):
        check_transition("jira_sync", S.PENDING, S.FAILED)
