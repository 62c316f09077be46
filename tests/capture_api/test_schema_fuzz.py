"""Schemathesis over the whole OpenAPI schema: no server error, every answer as documented.

Fixed seed (derandomize) and a bounded number of examples per operation, so it
stays within CI time; each operation is tried without a token, with a
capturer's and with an admin's. The counts of requests and statuses are
printed (`-s`) for the issue's report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hub.accounts.roles import Role
from tests.conftest import api_client_for

EXAMPLES_PER_OPERATION = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
STATUSES: Counter[str] = Counter()

# tus chunks (application/offset+octet-stream) are bytes, as application/octet-stream is.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _connection_kept_across_requests() -> Iterator[None]:
    """As Django's test client does: the in-process app must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["anonymous", "capturer", "admin"])
def authorization(
    request: pytest.FixtureRequest, private_data_dir: object, emr: object
) -> dict[str, str]:
    if request.param == "anonymous":
        return {}
    client = api_client_for(f"fuzz-{request.param}", Role(request.param))
    return {"Authorization": client._credentials["HTTP_AUTHORIZATION"]}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_makes_a_server_error_and_every_answer_is_as_documented(
    case: schemathesis.Case, authorization: dict[str, str]
) -> None:
    response = case.call(headers=authorization)
    STATUSES[f"{case.method} {case.path} {response.status_code}"] += 1
    case.validate_response(response, checks=CHECKS, headers=authorization)


def teardown_module() -> None:
    print("\nschemathesis:", sum(STATUSES.values()), "requests")
    for key, count in sorted(STATUSES.items()):
        print(f"  {key}: {count}")
