"""TSTU-style throttling, as Azure DevOps Services does it (compressed in time).

https://learn.microsoft.com/azure/devops/integrate/concepts/rate-limits: each request costs
Throughput Units; past the limit in the window requests are *delayed* (still 200, with
``X-RateLimit-Delay``/``-Limit``/``-Remaining: 0``/``-Reset``/``-Resource`` and, when close to
blocking, ``Retry-After``); far past it they are *blocked*: 429 ``TF400733`` + ``Retry-After``.
The real window is a sliding five minutes; here it is ``window_seconds`` so tests run fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from connectors.sandbox.ratelimit import Decision, WindowBudget


@dataclass(frozen=True, slots=True)
class TstuPolicy:
    limit: int = 200  # TSTUs per window before requests are delayed
    block_at: int = 400  # TSTUs per window before requests are refused (429)
    window_seconds: float = 2.0
    delay_seconds: float = 0.01  # how long a delayed request is held
    retry_after_near_block: bool = True  # Retry-After on delayed 200s close to blocking


@dataclass(frozen=True, slots=True)
class TstuVerdict:
    blocked: bool
    delayed: bool
    headers: dict[str, str]


class TstuThrottle:
    def __init__(
        self,
        policy: TstuPolicy,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self._budget = WindowBudget(policy.block_at, policy.window_seconds, clock)
        self._sleep = sleep
        self.delayed = 0
        self.blocked = 0

    def charge(self, cost: int) -> TstuVerdict:
        d: Decision = self._budget.consume(cost)
        p = self.policy
        if not d.allowed:
            self.blocked += 1
            return TstuVerdict(True, False, self._headers(d, 0.0, retry_after=d.retry_after))
        if d.used <= p.limit:
            return TstuVerdict(False, False, {})
        self.delayed += 1
        self._sleep(p.delay_seconds)
        near = p.retry_after_near_block and d.used > (p.limit + p.block_at) // 2
        return TstuVerdict(
            False, True, self._headers(d, p.delay_seconds, retry_after=1 if near else None)
        )

    def _headers(self, d: Decision, delay: float, *, retry_after: int | None) -> dict[str, str]:
        headers = {
            "X-RateLimit-Resource": "ATCPU",
            "X-RateLimit-Delay": f"{delay:.3f}",
            "X-RateLimit-Limit": str(self.policy.limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(d.reset_at) + 1),
        }
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return headers
