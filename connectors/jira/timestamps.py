"""Jira's time formats: parsing payload timestamps and writing JQL time literals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, Field, PlainValidator

# Jira writes offsets without a colon (``+0000``, ``+0800``); Python 3.11's fromisoformat
# accepts that, but we normalise explicitly so the accepted grammar is ours, not the stdlib's.
_OFFSET_NO_COLON = re.compile(r"([+-]\d{2})(\d{2})$")
_EPOCH_MS_THRESHOLD = 100_000_000_000  # later than year 5138 in seconds, so it must be ms


def parse_jira_datetime(value: Any) -> datetime:
    """Any Jira timestamp as an aware UTC datetime.

    Accepts ``2024-01-05T10:20:30.123+0000``, ``…+08:00``, ``…Z`` and, because some Jira
    OpenAPI examples (changelog/bulkfetch) type ``created`` as an integer, epoch seconds or ms.
    A timestamp without an offset is refused: guessing a zone would shift every event.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: Jira timestamps always carry an offset")
        return value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError("not a timestamp")
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_MS_THRESHOLD else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {type(value).__name__}")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _OFFSET_NO_COLON.sub(r"\1:\2", text)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {value!r}")
    return parsed.astimezone(UTC)


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


JiraDateTime = Annotated[
    Annotated[AwareDatetime, AfterValidator(_as_utc)]
    | Annotated[datetime, PlainValidator(parse_jira_datetime)],
    Field(union_mode="left_to_right"),
]
"""A pydantic field type for Jira timestamps (always aware UTC once parsed).

Parsed by pydantic itself (in Rust: ``…+0000``, ``…+08:00``, ``…Z``, epoch numbers; a
timestamp without an offset is refused) and then put in UTC; only what it refuses goes
through `parse_jira_datetime` (which refuses naive times too). Every history of every issue
has one, and `parse_jira_datetime` as the only parser was a tenth of a sync's CPU."""


def format_jql_datetime(moment: datetime, tz: tzinfo | str = UTC) -> str:
    """A JQL time literal ``"yyyy/MM/dd HH:mm"`` for ``moment``, floored to the minute.

    JQL interprets such literals in the *searching user's* time zone (the ``timeZone`` of
    ``/myself``), so pass that zone; flooring keeps ``updated >= literal`` inclusive of the
    watermark. The caller still subtracts an overlap because Jira's clock is not ours.
    See https://support.atlassian.com/jira-software-cloud/docs/jql-fields/#Updated
    """
    if moment.tzinfo is None:
        raise ValueError("format_jql_datetime needs an aware datetime")
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    local = moment.astimezone(zone)
    return local.strftime("%Y/%m/%d %H:%M")
