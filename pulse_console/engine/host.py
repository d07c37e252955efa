"""Hosting an orchestrator that holds its client's lock: the same in a worker and a console.

`OrchestratorHost.run(stop)` drives the orchestrator in real time (scheduler.py), executes the
control commands other processes put in the control table (woken by NOTIFY, polled every
second as a fallback) — each inside `acting(command_id=…)`, so the audit trail names the
login that asked, not the worker's — answers them, sends every engine event out with NOTIFY, beats a
`Health` event, and watches that the lock's connection is alive. When `stop` is set it
shuts down cleanly: the running job stops at a batch boundary and is left to resume.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pulse_console.engine import controls
from pulse_console.engine.controls import Control, ControlResult, PendingCommand
from pulse_console.engine.events import ControlAnswered
from pulse_console.engine.leadership import Leadership
from pulse_console.engine.notify import (
    Listener,
    NotifyPublisher,
    control_channel,
    events_channel,
)
from pulse_console.engine.orchestrator import Orchestrator
from pulse_console.engine.scheduler import SchedulerDriver
from storage.audit_context import acting

_log = logging.getLogger("pulse.engine.host")


def dispatch(orchestrator: Orchestrator, command: PendingCommand) -> ControlResult:
    """Execute one control command on the orchestrator."""
    actor = command.requested_by
    if command.action == controls.SET_SETTING:
        args: dict[str, Any] = command.args
        return orchestrator.set_setting(str(args.get("key")), args.get("value"), actor=actor)
    try:
        control = Control(command.action)
    except ValueError:
        return ControlResult.refuse(f"unknown control {command.action!r}")
    return orchestrator.control(control, command.job, actor=actor)


class OrchestratorHost:
    def __init__(
        self,
        orchestrator: Orchestrator,
        leadership: Leadership,
        *,
        heartbeat_seconds: float = 5.0,
        control_poll_seconds: float = 1.0,
        shutdown_timeout: float = 30.0,
    ) -> None:
        self.orchestrator = orchestrator
        self.leadership = leadership
        self.heartbeat_seconds = heartbeat_seconds
        self.control_poll_seconds = control_poll_seconds
        self.shutdown_timeout = shutdown_timeout
        self.lost_leadership = False

    def handle_controls(self) -> int:
        """Claim, execute and answer every pending command; returns how many."""
        orch = self.orchestrator
        handled = 0
        while True:
            with orch.database.session() as session:
                pending = controls.claim(session, orch.client_id)
                if not pending:
                    return handled
                command = pending[0]
                try:
                    # The audit trail credits what the command changes to its requester.
                    with acting(
                        operation=f"control {command.action}",
                        actor=command.requested_by,
                        command_id=command.id,
                    ):
                        result = dispatch(orch, command)
                except Exception as exc:
                    _log.exception("control %s failed", command.action)
                    result = ControlResult.fail(f"{command.action} failed: {exc}")
                controls.answer(session, command.id, result)
            handled += 1
            _log.info(
                "control %s %s from %s: %s",
                command.action,
                command.job or "",
                command.requested_by,
                result.message,
            )
            orch.bus.publish(
                ControlAnswered(
                    orch.client,
                    command.id,
                    command.action,
                    command.job,
                    result.ok,
                    result.message,
                    orch.clock(),
                )
            )

    async def run(self, stop: asyncio.Event) -> None:
        orch = self.orchestrator
        loop = asyncio.get_running_loop()
        publisher = NotifyPublisher(orch.database, events_channel(self.leadership.key))
        unsubscribe = orch.bus.subscribe(publisher.publish)
        listener = Listener(
            orch.database,
            [control_channel(self.leadership.key)],
            lambda channel, payload: self._safe_handle(),
            name=f"pulse-control {orch.worker_name}",
        )
        orch.on_lost_leadership = lambda: self._lost(stop, loop)
        driver = SchedulerDriver(orch)
        driver.start()
        driver.every(self.control_poll_seconds, self._safe_handle, "controls")
        driver.every(self.heartbeat_seconds, lambda: self._beat(stop, loop), "health")
        self._beat(stop, loop)
        try:
            await stop.wait()
        finally:
            driver.shutdown()
            listener.stop()
            finished = await asyncio.to_thread(orch.shutdown, self.shutdown_timeout)
            if not finished:
                _log.warning("a run did not stop within %.0f s", self.shutdown_timeout)
            unsubscribe()
            publisher.close()

    def _safe_handle(self) -> None:
        try:
            self.handle_controls()
        except Exception:
            _log.exception("handling control commands failed")

    def _lost(self, stop: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
        """Leadership is gone (the lock's connection died, or a write found the epoch stale)."""
        if not self.lost_leadership:
            _log.error("lost the lock of client %s: stopping", self.orchestrator.client)
        self.lost_leadership = True
        loop.call_soon_threadsafe(stop.set)

    def _beat(self, stop: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
        if self.orchestrator.lost_leadership or not self.leadership.alive():
            self._lost(stop, loop)
            return
        try:
            created = self.orchestrator.ensure_jobs()  # integrations added while running
            if created:
                _log.info("new jobs: %s", ", ".join(created))
                self.orchestrator.on_wake()
            self.orchestrator.bus.publish(self.orchestrator.health())
        except Exception:
            _log.exception("health beat failed")
