"""The settings each integration type asks for, as data.

The console's form is built from `FORMS` and turns what was typed into the stored
`integrations.config` with `to_config`; the keys and shapes are those `integration add <type>`
stores (commands/sources.py), so an integration added either way reads the same. Adding a type
is one entry in `FORMS`; the form offers it once its pipeline is installed (`form_types`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from connectors.github import GITHUB_API
from pulse_console.pipelines.registry import offered_types

FieldKind = Literal["text", "list", "flag", "choice"]
FormValue = str | bool


@dataclass(frozen=True)
class TypeField:
    """One setting: `key` in `integrations.config`, shown with `label`."""

    key: str
    label: str
    kind: FieldKind = "text"
    hint: str = ""
    choices: tuple[str, ...] = ()
    upper: bool = False  # keys (projects) are stored upper-case, as the CLI does
    on: Any = True  # a flag's stored value when ticked…
    off: Any = False  # …and when not


@dataclass(frozen=True)
class TypeForm:
    label: str
    base_url_hint: str
    base_url_default: str = ""
    token_hint: str = "API token"
    fields: tuple[TypeField, ...] = ()


FORMS: dict[str, TypeForm] = {
    "jira": TypeForm(
        "Jira Cloud or Data Center",
        base_url_hint="https://acme.atlassian.net",
        token_hint="API token (Cloud) or personal access token (Data Center)",
        fields=(
            TypeField("email", "E-mail (Jira Cloud: the token's account)", hint="ada@example.com"),
            TypeField(
                "deployment",
                "Data Center (personal access token, no e-mail)",
                "flag",
                on="data_center",
                off="cloud",
            ),
            TypeField("projects", "Projects to sync", "list", "ALP, BET (empty: all)", upper=True),
        ),
    ),
    "github": TypeForm(
        "GitHub or GitHub Enterprise Server",
        base_url_hint=GITHUB_API,
        base_url_default=GITHUB_API,
        token_hint="token(s): several, separated by spaces, are used in turn",
        fields=(
            TypeField("enterprise", "GitHub Enterprise Server (/api/graphql)", "flag"),
            TypeField("orgs", "Organisations", "list", "acme, acme-labs"),
            TypeField("patterns", "Repository patterns within the organisations", "list", "api-*"),
            TypeField("repos", "Repositories", "list", "owner/name, owner/other"),
            TypeField("search", "Repository search query", hint="org:acme topic:service"),
            TypeField("project_keys", "Jira project keys to link", "list", "ALP, BET", upper=True),
            TypeField(
                "deployments",
                "Deployments from",
                "choice",
                choices=("auto", "graphql", "actions", "off"),
            ),
        ),
    ),
}


def form_types() -> tuple[str, ...]:
    """The types the form offers, in chain order: a pipeline is installed and fields known."""
    return tuple(kind for kind in offered_types() if kind in FORMS)


_SEPARATORS = re.compile(r"[,\s]+")


def form_values(kind: str, config: dict[str, Any]) -> dict[str, FormValue]:
    """What the form shows for a stored config (lists as "a, b", flags ticked or not)."""
    values: dict[str, FormValue] = {}
    for spec in FORMS[kind].fields if kind in FORMS else ():
        stored = config.get(spec.key)
        if spec.kind == "flag":
            values[spec.key] = stored == spec.on
        elif spec.kind == "list":
            values[spec.key] = ", ".join(str(v) for v in stored or [])
        elif spec.kind == "choice":
            values[spec.key] = str(stored) if stored in spec.choices else spec.choices[0]
        else:
            values[spec.key] = "" if stored is None else str(stored)
    return values


def to_config(kind: str, values: dict[str, FormValue]) -> dict[str, Any]:
    """The stored config for what the form holds: only the type's own keys."""
    config: dict[str, Any] = {}
    for spec in FORMS[kind].fields if kind in FORMS else ():
        value = values.get(spec.key, "")
        if spec.kind == "flag":
            config[spec.key] = spec.on if value is True else spec.off
        elif spec.kind == "list":
            items = [v for v in _SEPARATORS.split(str(value)) if v]
            config[spec.key] = [v.upper() for v in items] if spec.upper else items
        elif spec.kind == "choice":
            config[spec.key] = str(value) if value in spec.choices else spec.choices[0]
        else:
            config[spec.key] = str(value).strip() or None
    return config
