"""The control vocabulary (`Control`) and the one refusal that needs no state, apart from
`engine.controls` (the refusal rules and the control table): the CLI builds its parser's
choices from it, and so loads no database code to print `--help` or `--version`."""

from __future__ import annotations

from enum import StrEnum


class Control(StrEnum):
    """A job or orchestrator control; the value is the `Orchestrator` method that does it."""

    START = "start"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    SET_ACTIVE = "set_active"
    ORCHESTRATOR_TICK = "orchestrator_tick"  # start the chain now (CLI: `orchestrator start`)
    ORCHESTRATOR_PAUSE = "orchestrator_pause"
    ORCHESTRATOR_RESUME = "orchestrator_resume"

    @property
    def needs_job(self) -> bool:
        return not self.value.startswith("orchestrator_")

    @property
    def words(self) -> str:
        """How an operator reads it: "set active", "orchestrator tick"."""
        return self.value.replace("_", " ")

    @property
    def verb(self) -> str:
        """The CLI word: `jobs set-active JOB`, `orchestrator start`."""
        word = self.value.removeprefix("orchestrator_").replace("_", "-")
        return "start" if self is Control.ORCHESTRATOR_TICK else word

    @property
    def audit_action(self) -> str:
        """The audit-log action: job.start, orchestrator.tick."""
        return f"job.{self.value}" if self.needs_job else self.value.replace("_", ".", 1)


def missing_job(control: Control, job: str | None) -> str | None:
    """The one refusal that needs no state: a job control without a job."""
    if control.needs_job and not job:
        return f"{control.words} needs a job: name or select one"
    return None
