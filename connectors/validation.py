"""Validating payloads (any connector): whole responses strictly, bulk items one by one.

A list (Jira issues or histories, GitHub pull requests …) is validated item by item so one
malformed item is set aside (with its raw JSON and the error, for the pipeline's quarantine)
while the rest of the page flows on. Small metadata responses are validated whole and fail
as ``BadPayload``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from connectors.errors import BadPayload

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

_ERROR_LIMIT = 2000


@dataclass(frozen=True)
class Rejected:
    """An item that did not validate: what it was, where it came from, and why."""

    kind: str
    raw: Any
    error: str
    source: str = ""

    @property
    def raw_json(self) -> str:
        return json.dumps(self.raw, ensure_ascii=False, default=str)


def validate_each(
    model: type[M], items: Any, *, kind: str, source: str = ""
) -> tuple[list[M], list[Rejected]]:
    if not isinstance(items, list):
        raise BadPayload(
            f"{source}: expected a list of {kind}, got {type(items).__name__}.",
            raw=_dump(items),
            url=source,
        )
    good: list[M] = []
    bad: list[Rejected] = []
    for item in items:
        try:
            good.append(model.model_validate(item))
        except ValidationError as exc:
            bad.append(Rejected(kind=kind, raw=item, error=_short(exc), source=source))
    return good, bad


def validate_whole(adapter: TypeAdapter[T], data: Any, *, what: str, source: str) -> T:
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise BadPayload(
            f"{source} returned {what} in a shape we do not understand: {_short(exc)}",
            raw=_dump(data),
            url=source,
        ) from None


def _short(exc: ValidationError) -> str:
    return str(exc)[:_ERROR_LIMIT]


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
