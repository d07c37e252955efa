"""The job orchestrator on a pool of workers (procrastinate): one module per idea.

states.py            job/run statuses and the transition table (IllegalTransition)
store.py             jobs and job_runs in PostgreSQL; JobView (the one job read model); transitions
policy.py            pure decisions: which job starts now, and when to look again
runtime_settings.py  interval/retry/pause settings in `settings`, every change audited
orchestrator.py      one client's orchestrator: step(), run(), controls (decisions documented)
queue.py             runs as procrastinate jobs: defer (lock per client, queueing lock per job),
                     abort, status — in our own transactions
pool.py              a worker process of the pool: procrastinate worker, heartbeats, stalled
                     runs taken over, the schedule ticked once per client per tick
pool_view.py         the pool's read model (workers, heartbeats, current runs)
joblog.py            run logs → log_entries (batched) + rotating JSON-lines files + events
events.py            typed events, the in-process bus, NOTIFY payload encoding (< 8000 B)
notify.py            NOTIFY publisher and LISTEN listener; channel names per client
controls.py          Control (the control vocabulary), why_not (its refusal rules), ControlResult
service.py           PoolService: the API for the console, the CLI and the HTTP API
clock.py             injectable time (FakeClock for simulations)
status.py            RunSummary: the read model of past runs
"""
