"""The JSON API fuzzed by Schemathesis from its own OpenAPI document: for every operation,
examples generated from the schema (valid and invalid) are sent over real HTTP as an admin
of the whole tree. No answer may be a 5xx, and every answer must match the document (its
status code, content type, headers and body schema).

The number of examples per operation is bounded (VITRINA_FUZZ_EXAMPLES, default 25) so the
run fits in CI; each operation starts from a fresh World."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from server.api.openapi import build_openapi
from server.app import create_app
from tests.conftest import World, bearer

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("VITRINA_FUZZ_EXAMPLES", "25"))
CHECKS = [checks.not_a_server_error, checks.status_code_conformance,
          checks.content_type_conformance, checks.response_headers_conformance,
          checks.response_schema_conformance]



def _document() -> dict[str, Any]:
    """The OpenAPI document, built by an app that only lends its routes (no database is
    opened) so the operations are known when tests are collected."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(test_config={"SECRET_KEY": "fuzz", "DATABASE_URL": "sqlite://"},
                         instance_path=folder)
        with app.app_context():
            document = build_openapi()
        app.extensions["vitrina.db"].engine.dispose()
    return document


schema = schemathesis.openapi.from_dict(_document())


def test_the_fuzzed_document_is_the_one_served(live_server: str, world: World) -> None:
    served = requests.get(f"{live_server}/api/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == _document()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_operation(case: Any, live_server: str, world: World) -> None:
    session = requests.Session()
    try:
        case.call_and_validate(base_url=live_server, session=session,
                               headers=bearer(world.tokens["root_admin"]), checks=CHECKS,
                               timeout=20)
    finally:
        session.close()
