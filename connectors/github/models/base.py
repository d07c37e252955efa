"""Common pydantic configuration and timestamp type for GitHub payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator


def parse_github_datetime(value: Any) -> datetime:
    """GitHub's ``DateTime`` (ISO-8601 UTC, ``2024-01-05T10:20:30Z``) as an aware datetime.

    ``GitTimestamp`` values keep the committer's offset (``…+02:00``); both end up in UTC.
    https://docs.github.com/graphql/reference/scalars#datetime
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: GitHub timestamps always carry a zone")
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {type(value).__name__}")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without an offset: {value!r}")
    return parsed.astimezone(UTC)


def format_github_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


GitHubDateTime = Annotated[datetime, BeforeValidator(parse_github_datetime)]


class GitHubModel(BaseModel):
    """GitHub payload base: names as on the wire, unknown keys kept, not rejected.

    GraphQL payloads are camelCase, REST payloads snake_case; each model declares its wire
    names. ``extra="allow"`` because GitHub adds fields without notice. Keys are matched
    case-insensitively as a fallback, so re-serialised captures (DevLake writes GraphQL
    results through Go structs: ``CommitOid``, ``LatestStatus``) parse too.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=False)

    @model_validator(mode="before")
    @classmethod
    def _case_insensitive_keys(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known: dict[str, str] = {}
        for name, field in cls.model_fields.items():
            wire = field.alias or name
            known[wire.lower()] = wire
            known[name.lower()] = wire
        if all(k in known.values() or k.lower() not in known for k in data):
            return data
        out: dict[str, Any] = {}
        for key, value in data.items():
            wire = known.get(key.lower(), key) if isinstance(key, str) else key
            if wire in out and wire != key:
                continue  # the exact-case key wins
            out[wire] = value
        return out
