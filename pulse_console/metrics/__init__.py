"""DORA and flow metrics, computed in SQL over the canonical schema.

`metrics → storage` only: nothing here imports connectors, pipelines, the engine, services
or the TUI (the console reaches these through `pulse_console.services.metrics`). Every number
comes from SQL (CTEs and window functions over indexed tables); Python only assembles the
rows into the dataclasses the CLI and the console render. A report that asks several
questions of the same chain computes it once into temp tables (`snapshot`).

Package map:

- `mapping_rules`: how a status resolves to a flow step (the rule, once in SQL) and which
  statuses no mapping covers. Steps and mappings are edited by `services.flow_mappings`.
- `flow_metrics`: lead time, cycle time, time in step, flow efficiency, WIP, throughput.
  Each item's status timeline is precomputed in `work_item_status_spans` (kept by
  `storage.status_spans`, refreshed by the Jira sync per page); mappings are joined at
  query time, so a mapping edit needs no refresh.
- `step_items`: the work items behind one step's time (the drill-down).
- `delivery_chain`: the chain DORA and the PR breakdown share — scope, production
  deployments, which deployment shipped each PR, each PR's time breakdown.
- `pr_cycle`: per-PR coding / pickup / review / deploy times and their medians.
- `dora`: the four DORA metrics, weekly series and performance levels.
- `delivery_overview`: DORA and the PR breakdown from one delivery pass (what the screen calls).
- `performance_levels`: the DORA performance-level table (`dora_benchmarks.toml`, year as
  data); not to be confused with the top-level `benchmarks/` (speed measurements).
- `settings`: the metrics settings an operator can change (windows, environments, year).
- `filters`: the period and scope every query takes; `sql`: the one median definition,
  CTE rendering, temp tables and the planner settings metric statements run with;
  `snapshot`: a CTE chain computed once into analyzed temp tables for several statements.
"""
