"""The whole API from its own OpenAPI schema (schemathesis): generated requests of every
operation, with an admin token of the client, never get a 500 and every answer matches the
schema (status codes, content types, bodies, headers)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import CLIENT, Api

schema = schemathesis.pytest.from_fixture("api_schema")


def no_internal_error(ctx: object, response: schemathesis.Response, case: object) -> bool:
    """A 500 is a bug; 503 (nobody drives the client, the database is away) is an answer."""
    assert response.status_code != 500, response.text
    return True


@pytest.fixture
def api_schema(api: Api) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{api.url}/openapi.json")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_by_its_schema_and_never_500(
    case: schemathesis.Case, api: Api
) -> None:
    if "client" in (case.path_parameters or {}):
        case.path_parameters["client"] = CLIENT  # most requests get past the token check
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api.tokens['admin']}"},
        checks=[
            no_internal_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            response_headers_conformance,
        ],
    )
