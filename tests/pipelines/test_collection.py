"""The garbage collector's setting while syncs run."""

from __future__ import annotations

import gc

from pulse_console.pipelines.collection import (
    FULL_COLLECTION_THRESHOLD,
    YOUNG_COLLECTION_THRESHOLD,
    fewer_collections,
)


def test_collections_are_rare_while_a_sync_runs_and_the_setting_comes_back() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        young, middle, oldest = gc.get_threshold()
        assert young == max(before[0], YOUNG_COLLECTION_THRESHOLD)
        assert middle == before[1]
        assert oldest == max(before[2], FULL_COLLECTION_THRESHOLD)
        with fewer_collections():  # a second sync at the same time
            assert gc.get_threshold()[2] == oldest
        assert gc.get_threshold()[2] == oldest  # the first still runs
    assert gc.get_threshold() == before


def test_the_setting_comes_back_when_a_sync_fails() -> None:
    before = gc.get_threshold()
    try:
        with fewer_collections():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
