"""Every Textual message the console posts, one small dataclass each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from pulse_console.engine.status import JobSummary


@dataclass
class JobsLoaded(Message):
    """A fresh list of the client's jobs arrived from the engine."""

    jobs: list[JobSummary]
    at: datetime
