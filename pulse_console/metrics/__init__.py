"""DORA and flow metrics, computed in SQL over the canonical schema.

`metrics → storage` only: nothing here imports connectors, the engine or the TUI. Every
number comes from SQL (CTEs and window functions over indexed tables); Python only
assembles the rows into the dataclasses the CLI and the console render. A report that asks
several questions of the same chain computes it once into temp tables (`snapshot`).

- `flow`: flow steps, status and issue-type mappings, the default mapping proposal.
- `flow_metrics`: lead time, cycle time, time in step, flow efficiency, WIP, throughput.
  Each item's status timeline is precomputed in `work_item_status_spans` (kept by
  `storage.status_spans`, refreshed by the Jira sync per page); mappings are joined at
  query time, so a mapping edit needs no refresh.
- `pr_cycle`: per-PR coding / pickup / review / deploy times and the deployment that
  shipped each PR.
- `dora`: the four DORA metrics, weekly series and performance levels.
- `delivery`: DORA and the PR breakdown from one delivery pass (what the screen calls).
- `snapshot`: a CTE chain computed once into analyzed temp tables for several statements.
- `benchmarks`: the DORA performance-level table (`dora_benchmarks.toml`, year as data).
- `settings`: the metrics settings an operator can change (windows, environments, year).
- `filters`: the period and scope every query takes; `sql`: the one median definition,
  CTE rendering, temp tables and the planner settings metric statements run with.
"""
