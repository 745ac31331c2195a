"""The OpenAPI 3.1 document of every ``/api`` route, built from the route table (``routes.py``)
and the payload declarations. ``python -m app_common.openapi > docs/openapi.json`` regenerates
the committed copy (``tests/api`` fails while it is out of date)."""
from __future__ import annotations

import json
import re
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from ..http import API_PREFIX
from ..payloads.base import adapter
from .routes import ROUTES, Route

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_UNAUTHORIZED = {"description": "no key, or a wrong one (`x-functions-key` header or `code` query)"}
_KEYS = {"functionKeyHeader": {"type": "apiKey", "in": "header", "name": "x-functions-key"},
         "functionKeyQuery": {"type": "apiKey", "in": "query", "name": "code"}}


def _schemas() -> tuple[dict[Any, Any], dict[str, Any]]:
    """JSON schema (a $ref for declared classes) of every body in the table, and the components."""
    types = {id(t): t for route in ROUTES for t in [route.body, *(r[2] for r in route.responses)] if t is not None}
    inputs = [(key, "validation", adapter(t).core_schema) for key, t in types.items()]
    key_map, defs = GenerateJsonSchema(ref_template="#/components/schemas/{model}").generate_definitions(inputs)
    return {key: schema for (key, _), schema in key_map.items()}, defs


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(route: Route, schemas: dict[Any, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": route.function, "summary": route.summary, "tags": list(route.tags)}
    params = _PARAM.findall(route.path)
    if params:
        operation["parameters"] = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                                   for name in params]
    if route.body is not None:
        operation["requestBody"] = {"required": route.body_required, "content": _json(schemas[id(route.body)]),
                                    **({"description": route.body_description} if route.body_description else {})}
    responses: dict[str, Any] = {str(status): {"description": text, "content": _json(schemas[id(body)])}
                                 for status, text, body in route.responses}
    responses["401"] = _UNAUTHORIZED
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def document() -> dict[str, Any]:
    schemas, components = _schemas()
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(f"{API_PREFIX}/{route.path}", {})[route.method.lower()] = _operation(route, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Durable Functions for Python: the reference app", "version": "1.0.0",
                 "description": "Errors are JSON `{\"error\": ...}`: 400 bad input (nothing started), 401 no "
                                "or wrong key, 404 unknown instance or key, 409 wrong state. See docs/patterns.md."},
        "servers": [{"url": "http://localhost:7071", "description": "local (python -m devhost or func start)"}],
        "security": [{"functionKeyHeader": []}, {"functionKeyQuery": []}],
        "paths": paths,
        "components": {"schemas": dict(sorted(components.items())), "securitySchemes": _KEYS},
    }


def render() -> str:
    return json.dumps(document(), indent=1, ensure_ascii=False) + "\n"
