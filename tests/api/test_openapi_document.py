"""docs/openapi.json: up to date with the declarations, a valid OpenAPI 3.1 document, and the
same routes (method, path, function) as the app really registers."""
from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate

from app_common.openapi import document, render
from devhost.app_index import load_app

from .conformance import DOCUMENT, check

ROOT = Path(__file__).resolve().parents[2]
METHODS = {"get", "post", "put", "delete", "patch"}


def _documented() -> set[tuple[str, str, str]]:
    return {(method.upper(), path, operation["operationId"])
            for path, item in document()["paths"].items() for method, operation in item.items() if method in METHODS}


def test_the_committed_document_is_up_to_date():
    assert DOCUMENT.read_text() == render(), "run: python -m app_common.openapi > docs/openapi.json"


def test_the_document_is_valid_openapi_3_1():
    spec = document()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_registered_route_is_documented_and_nothing_else():
    registered = {(method, f"/api/{info.route.strip('/')}", info.name)
                  for info in load_app(ROOT).of_kind("http") for method in info.methods or ["*"]}
    assert not any(method == "*" for method, _, _ in registered), "a route accepts every method"
    assert registered == _documented(), (
        f"registered, not documented: {sorted(registered - _documented())}; "
        f"documented, not registered: {sorted(_documented() - registered)}")


def test_every_operation_needs_a_key_and_documents_401_and_json_answers():
    spec = document()
    assert {"x-functions-key", "code"} == {s["name"] for s in spec["components"]["securitySchemes"].values()}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert "401" in operation["responses"], (method, path)
            assert all("application/json" in r.get("content", {"application/json": 1})
                       for r in operation["responses"].values())


@pytest.mark.parametrize("method, path, status, body", [
    ("GET", "/api/counters/visits", 200, {"key": "visits", "value": 5}),
    ("POST", "/api/counters/visits/add", 202, {"key": "visits", "operation": "add", "amount": 5}),
    ("POST", "/api/jobs", 400, {"error": "missing field 'job'"}),
])
def test_conformance_check_accepts_documented_answers(method, path, status, body):
    check(method, path, status, body)


@pytest.mark.parametrize("method, path, status, body", [
    ("GET", "/api/counters/visits", 200, {"key": "visits", "value": "5"}),  # wrong type
    ("GET", "/api/counters/visits", 201, {"key": "visits", "value": 5}),  # undocumented status
    ("GET", "/api/nowhere", 200, {}),  # undocumented route
    ("POST", "/api/jobs", 400, {"message": "no error field"}),
])
def test_conformance_check_refuses_undocumented_answers(method, path, status, body):
    with pytest.raises(AssertionError):
        check(method, path, status, body)
