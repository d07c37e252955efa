"""Integration type → pipeline factory, in chain order.

Every active integration has its own job, named after it (engine/store.py `ensure_jobs`);
the engine picks the job's pipeline by its integration's TYPE. A new source plugs in with one
line in `PIPELINES`, at its chain position. Tests build their own `PipelineRegistry` with
scripted pipelines registered under their integrations' types.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the registry is read at CLI start-up; pipelines load when a job runs
    from pulse_console.pipelines.base import Pipeline

PipelineFactory = Callable[[], "Pipeline"]

# integration type → "module:Class" of its pipeline (imported only when a job first runs);
# the order is the chain's: Jira, Azure DevOps, Aha!, GitHub (then integration name)
PIPELINES: dict[str, str] = {
    "jira": "pulse_console.pipelines.jira.sync:JiraSync",
    "azure_devops": "pulse_console.pipelines.azure_devops.sync:AzureDevOpsSync",
    "aha": "pulse_console.pipelines.aha.sync:AhaSync",
    "github": "pulse_console.pipelines.github.sync:GitHubSync",
}


class PipelineNotAvailable(LookupError):
    """No pipeline is registered (or installed) for an integration type."""


class PipelineRegistry:
    """Pipelines by integration type; `order` lists the types that get jobs, in chain order."""

    def __init__(self, order: Sequence[str] | None = None) -> None:
        self._factories: dict[str, PipelineFactory] = {}
        self.order: tuple[str, ...] = tuple(PIPELINES if order is None else order)

    def register(self, kind: str, factory: PipelineFactory) -> None:
        self._factories[kind] = factory

    def create(self, kind: str) -> Pipeline:
        factory = self._factories.get(kind)
        if factory is None:
            raise PipelineNotAvailable(
                f"no pipeline is available for {kind!r} integrations in this version"
            )
        return factory()

    def __contains__(self, kind: object) -> bool:
        return kind in self._factories

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


def installed(kind: str) -> bool:
    """Is the pipeline module of integration type `kind` present (found without importing)?"""
    module_name = PIPELINES[kind].partition(":")[0]
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:  # its source's package is not there at all
        return False


def offered_types() -> tuple[str, ...]:
    """The integration types an operator may add, in chain order: those whose pipeline is
    installed. A type being written (no pipeline yet) is offered nowhere, so no integration
    is saved whose job would fail at every tick; it appears by itself when it lands."""
    return tuple(kind for kind in PIPELINES if installed(kind))


def default_registry() -> PipelineRegistry:
    """The product's pipelines (each imported lazily, so a missing one fails only its job)."""
    registry = PipelineRegistry()
    for kind, target in PIPELINES.items():
        registry.register(kind, _lazy(target))
    return registry
