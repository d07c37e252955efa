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
from connectors.jira import JIRA_MAX_IN_FLIGHT
from pulse_console.pipelines.registry import offered_types

FieldKind = Literal["text", "list", "flag", "choice", "number"]
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
    commas_only: bool = False  # list items may hold spaces (Azure DevOps project names)
    on: Any = True  # a flag's stored value when ticked…
    off: Any = False  # …and when not
    bounds: tuple[int, int] = (1, 1)  # a number's least and greatest value; empty: the default


# Settings every type has; the bounds are those the pipelines' options enforce.
WINDOWS = TypeField(
    "windows", "Windows: chains read at once (1-16)", "number", "empty: 4", bounds=(1, 16)
)
MAX_IN_FLIGHT = TypeField(
    "max_in_flight",
    "Requests in flight at most (1-100; halved on each 429)",
    "number",
    f"empty: {JIRA_MAX_IN_FLIGHT}",
    bounds=(1, 100),
)


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
            WINDOWS,
            MAX_IN_FLIGHT,
            # Stored as the CLI's --window-threads does: ticked turns window processes off;
            # unticked stores nothing (the sync's default), like an empty number.
            TypeField(
                "window_processes",
                "Windows in threads (no window processes)",
                "flag",
                on=False,
                off=None,
            ),
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
            WINDOWS,
        ),
    ),
    "azure_devops": TypeForm(
        "Azure DevOps Services or Server",
        base_url_hint="https://dev.azure.com/ORG or https://HOST/tfs/COLLECTION",
        token_hint="personal access token (read: Work Items, Code, Build, Release)",
        fields=(
            TypeField(
                "projects",
                "Projects to sync",
                "list",
                "Fabrikam Fiber, Contoso Web (empty: all)",
                commas_only=True,
            ),
            WINDOWS,
        ),
    ),
    "aha": TypeForm(
        "Aha!",
        base_url_hint="https://acme.aha.io",
        token_hint="API key",
        fields=(
            TypeField("products", "Products to sync", "list", "PRJ1, 6776 (empty: all)"),
            WINDOWS,
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


_WHOLE = re.compile(r"[+-]?\d+")


def number_fields(kind: str) -> tuple[TypeField, ...]:
    """The type's whole-number settings (`integration add` takes each as `--key-name N`)."""
    return tuple(s for s in FORMS[kind].fields if s.kind == "number") if kind in FORMS else ()


def number_problem(spec: TypeField, value: Any) -> str | None:
    """What ``value`` (stored, or as typed) must be to be ``spec``'s setting; None: it is.

    Empty means the pipeline's default, so it is never a problem.
    """
    if value is None or value == "":
        return None
    low, high = spec.bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return f"a whole number from {low} to {high}"
    return None


def field_problems(kind: str, config: dict[str, Any]) -> dict[str, str]:
    """Per-key problems of the type's number settings in ``config`` (as `to_config` made it)."""
    problems: dict[str, str] = {}
    for spec in number_fields(kind):
        if problem := number_problem(spec, config.get(spec.key)):
            problems[spec.key] = f"{problem[0].upper()}{problem[1:]} ({spec.hint})."
    return problems


def to_config(kind: str, values: dict[str, FormValue]) -> dict[str, Any]:
    """The stored config for what the form holds: only the type's own keys."""
    config: dict[str, Any] = {}
    for spec in FORMS[kind].fields if kind in FORMS else ():
        value = values.get(spec.key, "")
        if spec.kind == "flag":
            config[spec.key] = spec.on if value is True else spec.off
        elif spec.kind == "list":
            parts = str(value).split(",") if spec.commas_only else _SEPARATORS.split(str(value))
            items = [v.strip() for v in parts if v.strip()]
            config[spec.key] = [v.upper() for v in items] if spec.upper else items
        elif spec.kind == "choice":
            config[spec.key] = str(value) if value in spec.choices else spec.choices[0]
        elif spec.kind == "number":
            text = str(value).strip()
            # Not a number stays text, so `field_problems` names it instead of it being lost.
            config[spec.key] = int(text) if _WHOLE.fullmatch(text) else (text or None)
        else:
            config[spec.key] = str(value).strip() or None
    return config
