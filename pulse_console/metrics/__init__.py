"""DORA and flow metrics, computed in SQL over the canonical schema.

`metrics → storage` only: nothing here imports connectors, the engine or the TUI. Every
number comes from one SQL statement (CTEs and window functions over indexed tables); Python
only assembles the rows into the dataclasses the CLI and the console render.

- `flow`: flow steps, status and issue-type mappings, the default mapping proposal.
- `flow_metrics`: lead time, cycle time, time in step, flow efficiency, WIP, throughput.
- `pr_cycle`: per-PR coding / pickup / review / deploy times and the deployment that
  shipped each PR.
- `dora`: the four DORA metrics, weekly series and performance levels.
- `benchmarks`: the DORA performance-level table (`dora_benchmarks.toml`, year as data).
- `settings`: the metrics settings an operator can change (windows, environments, year).
- `filters`: the period and scope every query takes; `sql`: the one median definition.
"""
