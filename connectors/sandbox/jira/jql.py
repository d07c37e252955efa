"""The JQL subset the simulator understands, parsed into a small query object.

Supported: clauses joined by ``AND`` on ``project`` (``=``, ``!=``, ``in``, ``not in``),
``key``/``issuekey`` and ``id`` (``=``, ``in``), ``issuetype``/``type`` (``=``, ``in``),
``updated``/``created`` (``>=``, ``>``, ``<=``, ``<``, ``=`` with ``"yyyy/MM/dd HH:mm"``
literals, compared at minute resolution as Jira does), then ``ORDER BY`` ``updated``,
``created``, ``key``, ``id`` with ``ASC``/``DESC``. Anything else is a 400, with Jira's
message where the simulator knows it.
JQL reference: https://support.atlassian.com/jira-software-cloud/docs/use-advanced-search-with-jira-query-language-jql/
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from connectors.sandbox.timefmt import parse_jql_datetime

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|=|>|<|~)"""
    r"""|(?P<punct>[(),])|(?P<word>[^\s(),=!<>~"']+))"""
)
_FIELD_ALIASES = {
    "issuekey": "key",
    "type": "issuetype",
    "updateddate": "updated",
    "createddate": "created",
}
_SET_FIELDS = {"project", "key", "id", "issuetype"}
_TIME_FIELDS = {"updated", "created"}
ORDER_FIELDS = {"updated", "created", "key", "id"}


class JqlError(ValueError):
    """The query cannot be run; the message is shown to the client as Jira would."""


@dataclass(frozen=True, slots=True)
class TimeBound:
    field: str
    op: str
    minute_ms: int


@dataclass(slots=True)
class Query:
    # field -> (negated, values) for set-like clauses; several clauses on one field AND up.
    sets: list[tuple[str, bool, tuple[str, ...]]] = field(default_factory=list)
    times: list[TimeBound] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, ascending)

    @property
    def bounded(self) -> bool:
        """Whether the query restricts the search at all (Jira refuses unbounded ones)."""
        return bool(self.sets or self.times)


def _tokens(jql: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = jql.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise JqlError(
                f"Error in the JQL Query: The character '{text[pos]}' is a reserved JQL character."
            )
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
        pos = m.end()
    return out


def parse(jql: str) -> Query:
    tokens = _tokens(jql)
    q = Query()
    i = 0

    def peek_word() -> str:
        return tokens[i][1].lower() if i < len(tokens) and tokens[i][0] == "word" else ""

    while i < len(tokens) and peek_word() != "order":
        if tokens[i][0] != "word" and tokens[i][0] != "str":
            raise JqlError(
                f"Error in the JQL Query: Expecting a field name but got '{tokens[i][1]}'."
            )
        name = tokens[i][1].lower()
        name = _FIELD_ALIASES.get(name, name)
        i += 1
        if name not in _SET_FIELDS | _TIME_FIELDS:
            raise JqlError(
                f"Field '{tokens[i - 1][1]}' does not exist or you do not have permission "
                "to view it."
            )
        negated = False
        if peek_word() == "not":
            negated = True
            i += 1
        if peek_word() == "in":
            i += 1
            values, i = _list(tokens, i)
            if name in _TIME_FIELDS:
                raise JqlError(f"The operator 'in' is not supported by the '{name}' field.")
            q.sets.append((name, negated, values))
        elif i < len(tokens) and tokens[i][0] == "op" and not negated:
            op = tokens[i][1]
            i += 1
            if i >= len(tokens) or tokens[i][0] not in ("word", "str"):
                raise JqlError(
                    "Error in the JQL Query: Expecting either a value, list or function but got "
                    "end of query."
                )
            value = tokens[i][1]
            i += 1
            if name in _TIME_FIELDS:
                when = parse_jql_datetime(value)
                if when is None:
                    raise JqlError(
                        f"Date value '{value}' for field '{name}' is invalid. "
                        "Valid formats include: "
                        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
                        "or a period format e.g. '-5d', '4w 2d'."
                    )
                if op not in ("=", ">=", ">", "<=", "<"):
                    raise JqlError(f"The operator '{op}' is not supported by the '{name}' field.")
                q.times.append(TimeBound(name, op, when))
            elif op in ("=", "!="):
                q.sets.append((name, op == "!=", (value,)))
            else:
                raise JqlError(f"The operator '{op}' is not supported by the '{name}' field.")
        else:
            raise JqlError("Error in the JQL Query: Expecting operator but got end of query.")
        if i < len(tokens) and peek_word() == "and":
            i += 1
            continue
        if i < len(tokens) and peek_word() == "or":
            raise JqlError("The sandbox's JQL subset supports only AND between clauses.")
        if i < len(tokens) and peek_word() != "order":
            raise JqlError(
                f"Error in the JQL Query: Expecting 'AND' or 'ORDER BY' but got '{tokens[i][1]}'."
            )
    if i < len(tokens):
        i += 1
        if peek_word() != "by":
            raise JqlError("Error in the JQL Query: Expecting 'by' but got end of query.")
        i += 1
        while i < len(tokens):
            name = _FIELD_ALIASES.get(tokens[i][1].lower(), tokens[i][1].lower())
            if name not in ORDER_FIELDS:
                raise JqlError(f"Not able to sort using field '{tokens[i][1]}'.")
            i += 1
            ascending = True
            if peek_word() in ("asc", "desc"):
                ascending = peek_word() == "asc"
                i += 1
            q.order.append((name, ascending))
            if i < len(tokens) and tokens[i] == ("punct", ","):
                i += 1
    return q


def _list(tokens: list[tuple[str, str]], i: int) -> tuple[tuple[str, ...], int]:
    if i >= len(tokens) or tokens[i] != ("punct", "("):
        raise JqlError("Error in the JQL Query: Expecting '(' after 'in'.")
    i += 1
    values: list[str] = []
    while i < len(tokens) and tokens[i] != ("punct", ")"):
        kind, value = tokens[i]
        if kind in ("word", "str"):
            values.append(value)
        elif tokens[i] != ("punct", ","):
            raise JqlError(f"Error in the JQL Query: Unexpected '{value}' in a list.")
        i += 1
    if i >= len(tokens):
        raise JqlError("Error in the JQL Query: Expecting ')' before the end of the query.")
    return tuple(values), i + 1
