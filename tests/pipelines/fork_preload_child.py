"""A program that starts window processes and closes them (test_jira_window_processes.py):
its main module imports fork_marker, which records each process that imports it."""

from __future__ import annotations

import logging
import sys

from connectors.http.cancel import CancelToken
from connectors.http.gate import RateGate
from pulse_console.pipelines.jira.window_process import WindowProcesses
from tests.pipelines import fork_marker  # noqa: F401  (records the processes importing it)


class _NoLookup:
    def versions(self, issue_ids: list[str]) -> dict[str, object]:
        raise AssertionError("not called")

    def dev_summaries(self, issue_ids: list[str]) -> dict[str, str | None]:
        raise AssertionError("not called")


def main(count: int) -> None:
    processes = WindowProcesses(
        count,
        base_url="http://127.0.0.1:9",
        token="unused",
        http_options={},
        gate=RateGate(4),
        cancel=CancelToken(),
        lookup=_NoLookup(),  # type: ignore[arg-type]
        keep=lambda bad: None,
        log=logging.getLogger("fork-preload-child"),
        observer=lambda event: None,
    )
    processes.start().close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
