"""Every Textual message the console posts, one small dataclass each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from pulse_console.engine.events import Event, JobProgress
from pulse_console.engine.status import JobSummary


@dataclass
class JobsLoaded(Message):
    """A fresh list of the client's jobs arrived from the engine."""

    jobs: list[JobSummary]
    at: datetime


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
            and isinstance(self.event, JobProgress)
            and isinstance(message.event, JobProgress)
            and message.event.run_id == self.event.run_id
        )
