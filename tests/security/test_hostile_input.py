"""Hostile input over every HTTP route of the app and of the host (issue 6 item 1).

Every app route and the management API get malformed JSON, wrong types, empty and 1 MiB+
bodies, unicode, path traversal and control characters in ids and keys, unknown orchestrator
names, wrong methods, and missing or wrong keys. Expected: a 4xx with a JSON message (or a
normal 2xx for requests that are in fact valid), never a 5xx, never a crash, and no instance or
entity created by a rejected request. The counts are printed (run with ``-s`` to see them).
"""
from __future__ import annotations

import json
import re
from collections import Counter

from devhost.store.base import InstanceQuery

HOSTILE_IDS = ["x1", "%E5%90%8D%E5%89%8D", "..%2F..%2Fetc%2Fpasswd", "a" * 300, "%00", "%40entity", "%20", "'%3B--"]
HOSTILE_BODIES: list[tuple[str, bytes, str]] = [
    ("no body", b"", ""),
    ("malformed JSON", b"{not json", "application/json"),
    ("null", b"null", "application/json"),
    ("array", b"[1, 2]", "application/json"),
    ("string", b'"text"', "application/json"),
    ("number", b"123", "application/json"),
    ("bool", b"true", "application/json"),
    ("float", b"1.5", "application/json"),
    ("wrong field types", json.dumps({"approved": "yes", "approver": 5, "container": 1, "prefix": [],
                                      "polling_interval_seconds": "x", "expiry_seconds": -1,
                                      "timeout_hours": "soon", "request": 3}).encode(), "application/json"),
    ("unknown fields", json.dumps({"unexpected": {"deep": [1, 2, 3]}}).encode(), "application/json"),
    ("unicode", json.dumps({"approver": "Zoë \u202e\u0000 名前", "request": {"item": "☃"}}).encode(), "application/json"),
    ("1 MiB+ string", json.dumps("x" * (1024 * 1024 + 10)).encode(), "application/json"),
    ("1 MiB+ object", json.dumps({"request": {"blob": "y" * (1024 * 1024 + 10)}}).encode(), "application/json"),
    ("text/plain", b"hello", "text/plain"),
]
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
_PARAM = re.compile(r"\{\*?([A-Za-z_][A-Za-z0-9_]*)[^}]*\}")


def _paths(template: str) -> list[str]:
    """The route with every parameter set to each hostile value in turn."""
    if not _PARAM.search(template):
        return ["/api/" + template.strip("/")]
    return ["/api/" + _PARAM.sub(value, template).strip("/") for value in HOSTILE_IDS]


async def _counts(env) -> tuple[int, int]:
    rows, _ = await env.host.store.query_instances(InstanceQuery())
    return len(rows), len(await env.host.store.list_entities())


async def test_hostile_input_never_gets_a_5xx_and_creates_nothing_when_rejected(azurite, durable_host):
    env = durable_host
    tally: Counter[int] = Counter()
    problems: list[str] = []
    requests = 0

    async def send(method: str, path: str, body: bytes, content_type: str, key: str | None) -> None:
        nonlocal requests
        requests += 1
        before = await _counts(env)
        headers = {"Content-Type": content_type} if content_type else {}
        async with env.request(method, path, key=key, data=body, headers=headers) as response:
            status = response.status
            text = await response.text()
        tally[status] += 1
        if env.keys.system in text and not path.startswith(("/api/orchestrators/", "/runtime/")):
            problems.append(f"{method} {path[:80]} -> {status} leaked the system key")
        if status >= 500:
            problems.append(f"{method} {path[:80]} [{len(body)} bytes] -> {status}: {text[:200]}")
            return
        if status >= 400:
            try:
                payload = json.loads(text)
            except ValueError:
                problems.append(f"{method} {path[:80]} -> {status} without a JSON body: {text[:100]!r}")
                return
            if not isinstance(payload, dict) or not ({"error", "Message"} & set(payload)):
                problems.append(f"{method} {path[:80]} -> {status} without an error message: {text[:100]}")
            await env.settle()
            if await _counts(env) != before:
                problems.append(f"{method} {path[:80]} -> {status} but created an instance or entity")

    app_routes = [info for info in env.host.index.of_kind("http")]
    for info in app_routes:
        allowed = info.methods or METHODS
        for path in _paths(info.route):
            for method in allowed:
                for _, body, content_type in HOSTILE_BODIES:
                    await send(method, path, body, content_type, "function")
            for method in set(METHODS) - set(allowed):
                await send(method, path, b"{}", "application/json", "function")  # wrong method
            for method in allowed:
                await send(method, path, b"{}", "application/json", None)  # missing key
                await send(method, path, b"{}", "application/json", "not-the-key")  # wrong key
        await send("POST", "/api/orchestrators/not_an_orchestrator", b"{}", "application/json", "function")
        await send("POST", "/api/orchestrators/..%2F..%2Fruntime", b"{}", "application/json", "function")

    webhook = "/runtime/webhooks/durabletask"
    for instance_id in HOSTILE_IDS:
        for method, suffix in [("GET", ""), ("DELETE", ""), ("POST", "/raiseEvent/ApprovalEvent"),
                               ("POST", "/terminate?reason=x"), ("POST", "/suspend"), ("POST", "/resume"),
                               ("POST", "/restart"), ("POST", "/rewind")]:
            for _, body, content_type in HOSTILE_BODIES[:3] + HOSTILE_BODIES[-3:]:
                await send(method, f"{webhook}/instances/{instance_id}{suffix}", body, content_type, "system")
        await send("POST", f"{webhook}/orchestrators/{instance_id}", b"{}", "application/json", "system")
        await send("GET", f"{webhook}/entities/Counter/{instance_id}", b"", "", "system")
        await send("POST", f"{webhook}/entities/Counter/{instance_id}", b"1", "application/json", "system")
        await send("GET", f"{webhook}/instances/{instance_id}", b"", "", None)
    for query in ["?top=-1", "?top=abc", "?createdTimeFrom=yesterday", "?runtimeStatus=Nope", "?showHistory=maybe"]:
        await send("GET", f"{webhook}/instances{query}", b"", "", "system")
    await send("DELETE", f"{webhook}/instances?createdTimeFrom=not-a-date", b"", "", "system")

    print(f"\nhostile input: {requests} requests; by status: {dict(sorted(tally.items()))}")
    assert not problems, "\n".join(problems[:40]) + f"\n({len(problems)} problems)"
    assert all(status < 500 for status in tally)


def test_no_app_route_is_anonymous(durable_host):
    anonymous = [info.name for info in durable_host.host.index.of_kind("http") if info.auth_level == "anonymous"]
    assert anonymous == []
