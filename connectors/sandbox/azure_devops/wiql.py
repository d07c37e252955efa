"""The slice of WIQL the simulator understands: flat ``SELECT … FROM WorkItems`` with AND-ed
comparisons on TeamProject, WorkItemType, Id and ChangedDate, ordered by ChangedDate/Id.

https://learn.microsoft.com/azure/devops/boards/queries/wiql-syntax — anything else is
refused with a 400, so a client that sends more than this notices.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.sandbox.azure_devops.model import AdoOrg, WorkItemData
from connectors.sandbox.azure_devops.render import parse_time


class WiqlError(ValueError):
    pass


_SELECT = re.compile(
    r"^\s*select\s+.+?\s+from\s+workitems\s*(?:where\s+(?P<where>.+?))?"
    r"\s*(?:order\s+by\s+(?P<order>.+))?$",
    re.IGNORECASE | re.DOTALL,
)
_CLAUSE = re.compile(
    r"^\[(?P<field>[\w.]+)\]\s*(?P<op><>|>=|<=|=|>|<)\s*(?P<value>@project|'[^']*'|\d+)$",
    re.IGNORECASE,
)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class WiqlQuery:
    tests: tuple[Callable[[AdoOrg, WorkItemData], bool], ...]
    descending: bool

    def run(self, org: AdoOrg) -> list[int]:
        hits = [
            w for w in org.items.values() if not w.deleted and all(t(org, w) for t in self.tests)
        ]
        hits.sort(key=lambda w: (w.head.changed_ms, w.id), reverse=self.descending)
        return [w.id for w in hits]


def parse_wiql(text: str, project: str) -> WiqlQuery:
    m = _SELECT.match(text.strip())
    if m is None:
        raise WiqlError(f"unsupported query: {text[:120]!r}")
    tests = []
    where = m.group("where")
    for part in re.split(r"\s+and\s+", where, flags=re.IGNORECASE) if where else []:
        c = _CLAUSE.match(part.strip().strip("()"))
        if c is None:
            raise WiqlError(f"unsupported condition {part!r}")
        tests.append(
            _test(c.group("field").lower(), _OPS[c.group("op")], c.group("value"), project)
        )
    order = (m.group("order") or "").lower()
    return WiqlQuery(tuple(tests), descending="changeddate] desc" in order)


def _test(
    field: str, op: Callable[[Any, Any], bool], raw: str, project: str
) -> Callable[[AdoOrg, WorkItemData], bool]:
    value = project if raw.lower() == "@project" else raw.strip("'")
    if field == "system.teamproject":
        name = value.lower()
        return lambda org, w: op(org.projects[w.head.project].name.lower(), name)
    if field == "system.workitemtype":
        kind = value.lower()
        return lambda org, w: op(w.type.lower(), kind)
    if field == "system.id":
        number = int(value)
        return lambda org, w: op(w.id, number)
    if field == "system.changeddate":
        when = parse_time(value)
        return lambda org, w: op(w.head.changed_ms, when)
    raise WiqlError(f"unsupported field [{field}]")
