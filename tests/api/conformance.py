"""Real answers checked against docs/openapi.json: the route template a path matches, the
response declared for its status, and the body validated against that response's schema."""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
_PARAM = re.compile(r"\\\{[A-Za-z_][A-Za-z0-9_]*\\\}")


@functools.cache
def document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile("^" + _PARAM.sub("[^/]+", re.escape(path)) + "$"), path) for path in document()["paths"]]


def operation(method: str, path: str) -> dict[str, Any] | None:
    """The documented operation for a concrete request path (query string ignored)."""
    path = path.split("?", 1)[0]
    for pattern, template in _templates():
        if pattern.match(path):
            return document()["paths"][template].get(method.lower())
    return None


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource("urn:openapi", DRAFT202012.create_resource(document()))


def check(method: str, path: str, status: int, body: Any) -> None:
    """AssertionError unless the answer is documented and its body matches the schema."""
    found = operation(method, path)
    assert found is not None, f"{method} {path} is not in docs/openapi.json"
    response = found["responses"].get(str(status))
    assert response is not None, f"{method} {path} answered {status}, not documented for {found['operationId']}"
    content = response.get("content")
    if content is None:
        return
    schema = _rebase(content["application/json"]["schema"])
    errors = sorted(Draft202012Validator(schema, registry=_registry()).iter_errors(body), key=str)
    assert not errors, f"{method} {path} -> {status}: {errors[0].message} at {list(errors[0].absolute_path)}"


def _rebase(schema: Any) -> Any:
    """``#/components/...`` refs point into the document, registered as ``urn:openapi``."""
    if isinstance(schema, dict):
        return {k: ("urn:openapi" + v if k == "$ref" and v.startswith("#/") else _rebase(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema
