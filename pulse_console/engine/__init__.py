"""The job orchestrator: one module per idea.

states.py            job/run statuses and the transition table (IllegalTransition)
store.py             jobs and job_runs in PostgreSQL; JobView (the one job read model); transitions
policy.py            pure decisions: which job starts now, and when to look again
runtime_settings.py  interval/retry/pause settings in `settings`, every change audited
orchestrator.py      one client's orchestrator: step(), runs, controls (decisions documented)
runner.py            where a run executes (InlineRunner, ThreadRunner)
joblog.py            run logs → log_entries (batched) + rotating JSON-lines files + events
events.py            typed events, the in-process bus, NOTIFY payload encoding (< 8000 B)
notify.py            NOTIFY publisher and LISTEN listener; channel names per client
leadership.py        the per-client advisory lock; who drives a client
controls.py          Control (the control vocabulary), why_not (its refusal rules), ControlResult,
                     the control_commands table (one pending per job)
scheduler.py         APScheduler 3 AsyncIOScheduler driving step() in real time
host.py              a lock holder's duties: scheduler, controls, NOTIFY, health beats
service.py           the API for the console and CLI: EmbeddedService / AttachedService
worker.py            `pulse-console worker`
clock.py             injectable time (FakeClock for simulations)
status.py            RunSummary: the read model of past runs
"""
