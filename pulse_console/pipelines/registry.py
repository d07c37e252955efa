"""Job name → pipeline factory, and which integration type feeds which job, in chain order.

The engine looks pipelines up here by job name; a new source plugs in by adding one line to
`CHAIN` and one registration in `default_registry`. Tests build their own `PipelineRegistry`
with scripted pipelines.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry is read at CLI start-up; pipelines load when a job runs
    from pulse_console.pipelines.base import Pipeline

PipelineFactory = Callable[[], "Pipeline"]

# integration type → job name, in chain order (jira_sync → github_sync → …)
CHAIN: dict[str, str] = {
    "jira": "jira_sync",
    "github": "github_sync",
    "azure_devops": "azure_devops_sync",
    "aha": "aha_sync",
}

# job name → "module:Class" of its pipeline (imported only when the job first runs)
_KNOWN: dict[str, str] = {
    "jira_sync": "pulse_console.pipelines.jira.sync:JiraSync",
    "github_sync": "pulse_console.pipelines.github.sync:GitHubSync",
    "azure_devops_sync": "pulse_console.pipelines.azure_devops.sync:AzureDevOpsSync",
    "aha_sync": "pulse_console.pipelines.aha.sync:AhaSync",
}


class PipelineNotAvailable(LookupError):
    """No pipeline is registered (or installed) for a job."""


class PipelineRegistry:
    def __init__(self, chain: dict[str, str] | None = None) -> None:
        self._factories: dict[str, PipelineFactory] = {}
        self.chain: dict[str, str] = dict(CHAIN if chain is None else chain)

    def register(self, job_name: str, factory: PipelineFactory) -> None:
        self._factories[job_name] = factory

    def create(self, job_name: str) -> Pipeline:
        factory = self._factories.get(job_name)
        if factory is None:
            raise PipelineNotAvailable(
                f"no pipeline is available for job {job_name!r} in this version"
            )
        return factory()

    def __contains__(self, job_name: object) -> bool:
        return job_name in self._factories

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)


def _lazy(target: str) -> PipelineFactory:
    module_name, _, attr = target.partition(":")

    def factory() -> Pipeline:
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise PipelineNotAvailable(f"pipeline {target} is not installed: {exc}") from None
        pipeline: Pipeline = cls()
        return pipeline

    return factory


def installed(job_name: str) -> bool:
    """Is the pipeline module of `job_name` present (found without importing it)?"""
    module_name = _KNOWN[job_name].partition(":")[0]
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:  # its source's package is not there at all
        return False


def offered_types() -> tuple[str, ...]:
    """The integration types an operator may add, in chain order: those whose pipeline is
    installed. A type being written (no pipeline yet) is offered nowhere, so no integration
    is saved whose job would fail at every tick; it appears by itself when it lands."""
    return tuple(kind for kind, job in CHAIN.items() if job in _KNOWN and installed(job))


def default_registry() -> PipelineRegistry:
    """The product's pipelines (each imported lazily, so a missing one fails only its job)."""
    registry = PipelineRegistry()
    for job_name, target in _KNOWN.items():
        registry.register(job_name, _lazy(target))
    return registry
