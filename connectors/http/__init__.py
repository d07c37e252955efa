"""The shared HTTP stack: one client, its policies, auth, counters and events."""

from connectors.http.auth import BasicAuth, BearerAuth
from connectors.http.budget import RequestBudget
from connectors.http.cancel import CancelCheck, CancelToken
from connectors.http.client import DEFAULT_TIMEOUT, HttpClient, HttpConfig, decode_json
from connectors.http.clock import Clock, SystemClock
from connectors.http.counters import HttpCounters
from connectors.http.events import HttpEvent, Observer, RateLimitWait, RetryScheduled
from connectors.http.ratelimit import (
    RateLimitInfo,
    parse_rate_limit,
    parse_reset,
    parse_retry_after,
)
from connectors.http.retry import RateLimitPolicy, RetryPolicy
from connectors.secret import Secret, redact_headers

__all__ = [
    "DEFAULT_TIMEOUT",
    "BasicAuth",
    "BearerAuth",
    "CancelCheck",
    "CancelToken",
    "Clock",
    "HttpClient",
    "HttpConfig",
    "HttpCounters",
    "HttpEvent",
    "Observer",
    "RateLimitInfo",
    "RateLimitPolicy",
    "RateLimitWait",
    "RequestBudget",
    "RetryPolicy",
    "RetryScheduled",
    "Secret",
    "SystemClock",
    "decode_json",
    "parse_rate_limit",
    "parse_reset",
    "parse_retry_after",
    "redact_headers",
]
