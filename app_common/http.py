"""JSON in and out for the routes: one error shape (``{"error": "..."}``) and strict body parsing."""
from __future__ import annotations

import json
from typing import Any

import azure.functions as func

from .validation import ValidationError, loads

API_PREFIX = "/api"  # host.json keeps the default routePrefix
RETRY_AFTER_SECONDS = 5

# Instance ids and keys taken from the URL: anything else cannot name one of our instances.
_MAX_ID_LENGTH = 100


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(body), status_code=status, headers=headers,
                             mimetype="application/json", charset="utf-8")


def error(http_status: int, message: str, /, **extra: Any) -> func.HttpResponse:
    return json_response({"error": message, **extra}, http_status)


def accepted(body: Any, location: str) -> func.HttpResponse:
    """202 with ``Location`` (a path under /api, never a management URL) and ``Retry-After``."""
    return json_response(body, 202, {"Location": location, "Retry-After": str(RETRY_AFTER_SECONDS)})


def read_json(req: func.HttpRequest, *, optional: bool = False) -> Any:
    """The request body parsed as JSON (ValidationError if malformed); None if empty and optional."""
    body = req.get_body()
    if not body or not body.strip():
        if optional:
            return None
        raise ValidationError("request body is required (JSON)")
    return loads(body)


def looks_like_id(value: str) -> bool:
    return 0 < len(value) <= _MAX_ID_LENGTH and all(c.isalnum() or c in "-_." for c in value)
