"""SQL fragments shared by every metric, so each definition exists exactly once.

**Median.** Every median in Pulse Console is `percentile_cont(0.5)`: the middle value of an
odd count, the mean of the two middle values of an even count (the textbook median; DORA's
reports speak of "median" without qualification, dora.dev/guides/dora-metrics-four-keys).
Apache DevLake's Grafana dashboards take the *lower* median instead (the largest value whose
`percent_rank()` is ≤ 0.5, devlake.apache.org/docs/Metrics/LeadTimeForChanges); the two
agree on odd counts and differ on even ones.

**Durations** are reported in hours (float). A negative span (a comment dated before the PR
was opened, a commit authored after it) is not a measurement and becomes NULL, as in
DevLake's `computeTimeSpan`.
"""

from __future__ import annotations


def median(expr: str) -> str:
    return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {expr})"


def hours(start: str, end: str) -> str:
    """Hours from `start` to `end`; NULL when either is NULL or the span is negative."""
    return f"(CASE WHEN {end} >= {start} THEN extract(epoch FROM ({end}) - ({start})) / 3600.0 END)"
