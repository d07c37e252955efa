"""Common pydantic configuration for Jira payloads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class JiraModel(BaseModel):
    """Jira payload base: camelCase on the wire, unknown keys kept, not rejected.

    ``extra="allow"`` because Atlassian adds fields without notice and the pipeline keeps the
    raw payload; only the fields we declare are validated.
    """

    model_config = ConfigDict(
        extra="allow",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=False,
    )
