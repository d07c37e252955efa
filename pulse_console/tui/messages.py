"""Every Textual message the console posts, one small dataclass each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from textual.message import Message

from pulse_console.engine.events import Event
from pulse_console.engine.events import JobProgress as EngineJobProgress
from pulse_console.services.client_services import ClientServices
from pulse_console.services.logs import LogPage, LogRecord
from pulse_console.services.metrics import DrillDown, MetricsView
from pulse_console.services.settings import ConsoleSettings
from pulse_console.tui.ports import JobsPort, LiveProgress, RunSummary

T = TypeVar("T")


@dataclass
class ProgressUpdated(Message):
    """The running job's progress changed (only the newest matters)."""

    progress: LiveProgress | None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ProgressUpdated)


@dataclass
class ControlDone(Message):
    """A job/orchestrator control was accepted by the engine."""

    action: str
    job: str | None


@dataclass
class ListLoaded(Message, Generic[T]):
    """A list screen's data arrived (a `ListScreen` posts it to itself)."""

    data: T


@dataclass
class RunDetailLoaded(Message):
    """One run's checkpoints and stats arrived."""

    detail: RunSummary | None


@dataclass
class LogPageLoaded(Message):
    """A page of log records arrived; `mode` says where it goes (replace/prepend/append)."""

    page: LogPage
    mode: str


@dataclass
class NewLogCount(Message):
    """How many records arrived after the last one shown (the "N new" badge)."""

    count: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, NewLogCount)


@dataclass
class LogDetailLoaded(Message):
    """One log record in full."""

    record: LogRecord | None


@dataclass
class FileIndexed(Message):
    """A log file's line index is complete."""

    line_count: int


@dataclass
class IndexProgress(Message):
    """Bytes scanned so far while indexing a log file."""

    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, IndexProgress)


@dataclass
class MetricsLoaded(Message):
    """DORA, flow and PR-cycle figures of one period and project arrived."""

    view: MetricsView


@dataclass
class DrillLoaded(Message):
    """The rows behind one metric arrived."""

    drill: DrillDown


@dataclass
class LoadFailed(Message):
    """A load failed; shown in the screen itself, in words (`title`: what, `text`: why)."""

    title: str
    text: str


@dataclass
class SettingsLoaded(Message):
    """The effective console settings arrived."""

    settings: ConsoleSettings


@dataclass
class Done(Message):
    """A command finished; `text` is what to tell the operator, `refresh` reloads the view."""

    text: str
    refresh: bool = True
    payload: Any = None


@dataclass
class EngineEvent(Message):
    """An engine event (engine/events.py) delivered to the console.

    Wrap a service subscription with `lambda e: app.post_message(EngineEvent(e))`; progress
    events of the same run replace each other in the queue.
    """

    event: Event

    def can_replace(self, message: Message) -> bool:
        return (
            isinstance(message, EngineEvent)
            and isinstance(self.event, EngineJobProgress)
            and isinstance(message.event, EngineJobProgress)
            and message.event.run_id == self.event.run_id
        )


@dataclass
class DatabaseReachability(Message):
    """A probe of the database: None when it answered, else why it did not."""

    problem: str | None


@dataclass
class ClientOpened(Message):
    """Another client's services and jobs are ready: the console switches to them."""

    client: str
    services: ClientServices
    jobs: JobsPort
