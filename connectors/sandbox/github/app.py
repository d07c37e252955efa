"""GitHub simulator: ``GitHubSimulator(org).handle`` is an httpx handler.

Layout (choose the base URL like a GitHub.com client does):

- ``POST {base}/graphql`` — GraphQL (https://docs.github.com/graphql/guides/forming-calls-with-graphql)
- ``GET {base}/rate_limit``, ``/repos/{o}/{r}/deployments``,
  ``/repos/{o}/{r}/deployments/{id}/statuses``, ``/repos/{o}/{r}/actions/runs``,
  ``/search/repositories`` — REST (https://docs.github.com/rest)

so ``{base}`` plays ``https://api.github.com``. The GitHub Enterprise Server layout works on the
same simulator: ``{base}/api/graphql`` and ``{base}/api/v3/...``
(https://docs.github.com/enterprise-server@latest/graphql/guides/forming-calls-with-graphql).

Auth is a token in ``Authorization: bearer <token>`` or ``token <token>``; anything else gets
GitHub's 401. Each token has a GraphQL budget of points per hour and a REST ``core`` budget of
requests per hour, reported in ``x-ratelimit-*`` headers and ``rateLimit``; a scenario's
``rate_limit`` (requests per window) plays GitHub's *secondary* limit (403 or 429 with
``retry-after``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import httpx
from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)

from connectors.sandbox.faults import FaultInjector, FaultScenario
from connectors.sandbox.github import rest
from connectors.sandbox.github.analysis import MAX_NODES, analyse
from connectors.sandbox.github.data import GitHubData
from connectors.sandbox.github.resolvers import Context, schema
from connectors.sandbox.http_app import json_body, json_response
from connectors.sandbox.org import Org
from connectors.sandbox.ratelimit import Clock, Decision, WindowBudget

GRAPHQL_DOCS = "https://docs.github.com/graphql"
REST_DOCS = "https://docs.github.com/rest"
SECONDARY_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/"
    "rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
PRIMARY_REST_DOCS = (
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-primary-rate-limits"
)
_REQUEST_ID = "C0DE:5A4D:B0X0:5EED:00000000"


def graphql_error_body(error: GraphQLError) -> dict[str, Any]:
    """graphql-core's error in GitHub's shape: ``type`` (for execution errors) at top level,
    validation messages worded as GitHub's graphql-ruby words them."""
    formatted: dict[str, Any] = dict(error.formatted)
    ext: dict[str, Any] = dict(formatted.pop("extensions", None) or {})
    out: dict[str, Any] = {}
    if "type" in ext:
        out["type"] = ext.pop("type")
    if "path" in formatted and formatted["path"] is not None:
        out["path"] = formatted["path"]
    message, extra = _ruby_message(formatted["message"])
    ext.update(extra)
    if ext:
        out["extensions"] = ext
    if formatted.get("locations"):
        out["locations"] = formatted["locations"]
    out["message"] = message
    return out


_RUBY_MESSAGES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, dict[str, Any]]]]]
_RUBY_MESSAGES = [
    (
        re.compile(r"Cannot query field '(\w+)' on type '(\w+)'\."),
        lambda m: (
            f"Field '{m[1]}' doesn't exist on type '{m[2]}'",
            {"code": "undefinedField", "typeName": m[2], "fieldName": m[1]},
        ),
    ),
    (
        re.compile(r"Unknown argument '(\w+)' on field '(\w+)\.(\w+)'\."),
        lambda m: (
            f"Field '{m[3]}' doesn't accept argument '{m[1]}'",
            {
                "code": "argumentNotAccepted",
                "name": m[3],
                "typeName": "Field",
                "argumentName": m[1],
            },
        ),
    ),
    (
        re.compile(r"Argument '\w+\.(\w+)\((\w+):\)' of type '.+' is required, but it was not"),
        lambda m: (
            f"Field '{m[1]}' is missing required arguments: {m[2]}",
            {
                "code": "missingRequiredArguments",
                "className": "Field",
                "name": m[1],
                "arguments": m[2],
            },
        ),
    ),
]


def _ruby_message(message: str) -> tuple[str, dict[str, Any]]:
    for pattern, convert in _RUBY_MESSAGES:
        m = pattern.match(message)
        if m:
            return convert(m)
    return message, {}


class GitHubSimulator:
    """GitHub GraphQL + a few REST endpoints over a generated ``Org``.

    ``tokens``: accepted tokens (default: the demo token). ``points_per_hour``: the GraphQL
    primary limit (5,000 for a user token). ``secondary_status``: 403 (default) or 429 for the
    scenario-driven secondary limit. ``rate_limit_error_type``: the ``type`` of the primary-limit
    error; GitHub currently sends ``RATE_LIMIT`` with ``code: graphql_rate_limit`` (older
    responses and many clients say ``RATE_LIMITED``). ``clock``: the time of rate windows, the
    simulator's own and its fault injector's (a secondary-limit window ends on it).
    """

    def __init__(
        self,
        org: Org,
        faults: FaultScenario | FaultInjector | None = None,
        *,
        tokens: tuple[str, ...] | None = None,
        points_per_hour: int = 5000,
        rest_per_hour: int = 5000,
        search_per_minute: int = 30,
        secondary_status: int = 403,
        rate_limit_error_type: str = "RATE_LIMIT",
        clock: Clock = time.time,
    ) -> None:
        from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN

        self.org = org
        self.data = GitHubData(org)
        self.faults = (
            faults
            if isinstance(faults, FaultInjector)
            else FaultInjector(faults, mutate=org.apply, clock=clock)
        )
        self.tokens = tokens or (DEMO_GITHUB_TOKEN,)
        self.secondary_status = secondary_status
        self.rate_limit_error_type = rate_limit_error_type
        self.clock = clock
        self.graphql_budget = WindowBudget(points_per_hour, 3600, clock)
        self.core_budget = WindowBudget(rest_per_hour, 3600, clock)
        self.search_budget = WindowBudget(search_per_minute, 60, clock)
        self.schema = schema()
        self.rest = rest.RestApi(self)

    # ------------------------------------------------------------------ plumbing
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Entry point for ``httpx.MockTransport`` and ``SandboxServer``."""
        return self.faults.run(request, self._route, self._secondary_limited, self._server_error)

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/api/v3/"):
            path = path[len("/api/v3") :]
        elif path == "/api/graphql":
            path = "/graphql"
        is_graphql = path == "/graphql"
        if not self._authenticated(request):
            docs = GRAPHQL_DOCS if is_graphql else REST_DOCS
            if "authorization" not in request.headers and is_graphql:
                return json_response(
                    401,
                    {
                        "message": "This endpoint requires you to be authenticated.",
                        "documentation_url": f"{GRAPHQL_DOCS}/guides/forming-calls-with-graphql"
                        "#authenticating-with-graphql",
                    },
                )
            return json_response(
                401, {"message": "Bad credentials", "documentation_url": docs, "status": "401"}
            )
        if is_graphql:
            if request.method != "POST":
                return json_response(404, {"message": "Not Found", "documentation_url": REST_DOCS})
            return self.graphql(request)
        return self.rest.route(request, path)

    def _authenticated(self, request: httpx.Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() in ("bearer", "token") and token.strip() in self.tokens

    def _secondary_limited(self, request: httpx.Request, decision: Decision) -> httpx.Response:
        """GitHub's secondary rate limit: https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"""
        primary = self.graphql_budget.peek()
        return json_response(
            self.secondary_status,
            {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                "before you try again. If you reach out to GitHub Support for help, please "
                f"include the request ID {_REQUEST_ID}.",
                "documentation_url": SECONDARY_DOCS,
            },
            {"retry-after": str(decision.retry_after), **self.rate_headers(primary, "graphql")},
        )

    def _server_error(
        self, request: httpx.Request, status: int, retry_after: int | None
    ) -> httpx.Response:
        headers = {"retry-after": str(retry_after)} if retry_after else {}
        if request.url.path.endswith("graphql"):
            # Seen from api.github.com on a timed-out query (502).
            body: dict[str, Any] = {
                "data": None,
                "errors": [
                    {
                        "message": "Something went wrong while executing your query. This may "
                        "be the result of a timeout, or it could be a GitHub bug. Please include "
                        f"`{_REQUEST_ID}` when reporting this issue."
                    }
                ],
            }
        else:
            body = {"message": "Server Error"}
        return json_response(status, body, headers)

    def rate_headers(self, d: Decision, resource: str) -> dict[str, str]:
        """``x-ratelimit-*`` as GitHub sends them on every API response."""
        return {
            "x-ratelimit-limit": str(d.limit),
            "x-ratelimit-remaining": str(d.remaining),
            "x-ratelimit-reset": str(int(d.reset_at)),
            "x-ratelimit-used": str(d.used),
            "x-ratelimit-resource": resource,
            "x-github-media-type": "github.v3; format=json",
            "x-github-request-id": _REQUEST_ID,
        }

    # ------------------------------------------------------------------ GraphQL
    def graphql(self, request: httpx.Request) -> httpx.Response:
        """POST /graphql — https://docs.github.com/graphql/guides/forming-calls-with-graphql"""
        try:
            body = json_body(request)
        except ValueError:
            return json_response(
                400, {"message": "Problems parsing JSON", "documentation_url": GRAPHQL_DOCS}
            )
        query = body.get("query") if isinstance(body, dict) else None
        if not isinstance(query, str):
            return self._errors(
                [{"message": "A query attribute must be specified and must be a string."}], None
            )
        variables = body.get("variables") or {}
        operation_name = body.get("operationName")
        try:
            document = parse(query)
        except GraphQLError as exc:
            return self._errors([graphql_error_body(exc)], None)
        problems = validate(self.schema, document)
        if problems:
            return self._errors([graphql_error_body(e) for e in problems], None)
        operation = _operation(document, operation_name)
        if operation is None:
            return self._errors([{"message": "No operation named " + repr(operation_name)}], None)
        if operation.operation.value != "query":
            return self._errors(
                [{"message": f"Schema is not configured for {operation.operation.value}s"}], None
            )
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        analysis = analyse(
            self.schema, operation, fragments, variables if isinstance(variables, dict) else {}
        )
        if analysis.node_count > MAX_NODES:
            return self._errors(
                [{"type": "MAX_NODE_LIMIT_EXCEEDED", "message": analysis.node_limit_message}], None
            )
        dry_run = _is_dry_run(operation)
        decision = (
            self.graphql_budget.peek() if dry_run else self.graphql_budget.consume(analysis.cost)
        )
        headers = self.rate_headers(decision, "graphql")
        if not decision.allowed:
            return json_response(
                200,
                {
                    "errors": [
                        {
                            "type": self.rate_limit_error_type,
                            "code": "graphql_rate_limit",
                            "message": "API rate limit already exceeded for user ID "
                            f"{self.data.viewer.database_id}.",
                        }
                    ]
                },
                headers,
            )
        context = Context(self.data, analysis, decision)
        result = execute(
            self.schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
        )
        assert isinstance(result, ExecutionResult)  # resolvers are synchronous
        return json_response(200, _result_body(result), headers)

    def _errors(
        self, errors: list[dict[str, Any]], headers: dict[str, str] | None
    ) -> httpx.Response:
        return json_response(200, {"errors": errors}, headers)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return ops[0] if len(ops) == 1 else None
    return next((o for o in ops if o.name is not None and o.name.value == name), None)


def _is_dry_run(operation: OperationDefinitionNode) -> bool:
    """``rateLimit(dryRun: true)`` asks what the call would cost without running it."""
    from graphql import BooleanValueNode, FieldNode

    for sel in operation.selection_set.selections:
        if isinstance(sel, FieldNode) and sel.name.value == "rateLimit":
            for arg in sel.arguments or ():
                if arg.name.value == "dryRun" and isinstance(arg.value, BooleanValueNode):
                    return bool(arg.value.value)
    return False


def _result_body(result: ExecutionResult) -> dict[str, Any]:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [graphql_error_body(e) for e in result.errors]
    return body
