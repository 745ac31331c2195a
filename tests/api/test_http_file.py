"""docs/api.http: a request for every documented route, and the whole file runs on the local
host top to bottom with every answer a 2xx that matches docs/openapi.json."""
from __future__ import annotations

import json

from .conformance import check, document, operation
from .http_file import read


def test_every_route_has_a_request_and_every_request_a_route():
    _, requests = read()
    covered = set()
    for request in requests:
        path = request.url.replace("{{base}}", "")
        found = operation(request.method, path)
        assert found is not None, f"{request.method} {request.url} is not a documented route"
        covered.add(found["operationId"])
    documented = {op["operationId"] for item in document()["paths"].values() for op in item.values()}
    assert documented == covered, f"routes without a request in docs/api.http: {sorted(documented - covered)}"


def test_every_request_sends_the_function_key():
    variables, requests = read()
    assert set(variables) == {"base", "key"}
    assert all(request.headers.get("x-functions-key") == "{{key}}" for request in requests)


async def test_the_file_runs_on_the_local_host(azurite, durable_host):
    env = durable_host
    variables, requests = read()
    variables = {**variables, "base": "", "key": env.keys.function}
    answers: dict[str, object] = {}
    for template in requests:
        request = template.resolve(variables, answers)
        await env.settle()  # signals and starts of earlier requests applied, as when a person clicks through
        async with env.request(request.method, request.url, key=None, headers=request.headers,
                               data=request.body.encode() or None) as response:
            status, text = response.status, await response.text()
        body = json.loads(text) if text else None
        assert 200 <= status < 300, f"{request.method} {request.url} -> {status}: {text[:200]}"
        check(request.method, request.url, status, body)
        if request.name:
            answers[request.name] = body
