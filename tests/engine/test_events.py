from __future__ import annotations

from datetime import UTC, datetime

from pulse_console.engine.events import (
    MAX_PAYLOAD,
    EventBus,
    Health,
    JobStatusChanged,
    LogRecord,
    RateLimitWait,
    decode,
    encode,
)

AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_events_round_trip_through_their_notify_payload() -> None:
    events = [
        JobStatusChanged("acme", "jira_sync", "FAILED", "RUNNING", "boom", 7, AT),
        RateLimitWait("acme", "github_sync", 8, AT, "github", AT),
        Health("acme", "w1", True, False, "jira_sync", AT, AT),
    ]
    for event in events:
        assert decode(encode(event)) == event


def test_big_messages_are_truncated_under_the_notify_limit() -> None:
    event = LogRecord("acme", "jira_sync", 1, "ERROR", "pulse.jobs", "é" * 20_000, AT)
    payload = encode(event)
    assert len(payload.encode()) < MAX_PAYLOAD < 8000
    back = decode(payload)
    assert isinstance(back, LogRecord) and back.message.endswith("…[truncated]")


def test_malformed_payloads_are_ignored() -> None:
    assert decode("not json") is None
    assert decode('{"type": "Nope"}') is None


def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    bus = EventBus()
    got: list[object] = []

    def broken(event: object) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    unsubscribe = bus.subscribe(got.append)
    event = Health("acme", "w1", True, False, None, None, AT)
    bus.publish(event)
    unsubscribe()
    bus.publish(event)
    assert got == [event]


def test_progress_messages_of_one_run_replace_each_other_in_the_console_queue() -> None:
    from pulse_console.engine.events import JobProgress
    from pulse_console.tui.messages import EngineEvent

    older = EngineEvent(JobProgress("acme", "jira_sync", 1, "load", 1, 9, 2, "", AT))
    newer = EngineEvent(JobProgress("acme", "jira_sync", 1, "load", 2, 9, 4, "", AT))
    other = EngineEvent(JobProgress("acme", "jira_sync", 2, "load", 2, 9, 4, "", AT))
    status = EngineEvent(JobStatusChanged("acme", "jira_sync", "FAILED", "RUNNING", "x", 1, AT))
    assert newer.can_replace(older)
    assert not other.can_replace(older)
    assert not status.can_replace(older) and not newer.can_replace(status)
