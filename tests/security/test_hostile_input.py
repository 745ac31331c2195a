"""Hostile input over every HTTP route of the app and of the host (issue 6 item 1, issue 12).

Every app route and the management API get malformed JSON, wrong types, empty and 1 MiB+
bodies, 1,000 levels of nesting, 5,000-digit integers, non-UTF-8 bytes, unicode, path traversal,
control characters and 2,000-character ids and keys, undecodable continuation tokens, unknown
orchestrator names, wrong methods, and missing or wrong keys; the management API also on the
Azure Storage provider. Expected: a 4xx with a JSON message that carries no parser or exception
text (or a normal 2xx for requests that are in fact valid), never a 5xx, and no instance or
entity created by a rejected request. The counts are printed (run with ``-s`` to see them).
"""
from __future__ import annotations

import asyncio
import base64
import json
import re
from collections import Counter

from app_common import names
from devhost.store.base import InstanceQuery
from devhost.testing import DurableTestHost
from tests.host.store.conftest import open_azure, unique_hub

HOSTILE_IDS = ["x1", "%E5%90%8D%E5%89%8D", "..%2F..%2Fetc%2Fpasswd", "a" * 300, "a" * 2000, "%00", "%40entity",
               "%20", "'%3B--"]
DIGITS_5000 = b"1" * 5000
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
    ("1,000 levels of nesting (2 KB)", b"[" * 1000 + b"]" * 1000, "application/json"),
    ("deep nesting in a field", b'{"request": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1001, "application/json"),
    ("5,000-digit integer", DIGITS_5000, "application/json"),
    ("5,000-digit integer in fields", b'{"amount": %s, "timeout_hours": %s, "approved": %s}'
     % (DIGITS_5000, DIGITS_5000, DIGITS_5000), "application/json"),
    ("not UTF-8", b'\xff\xfe{"a": 1}', "application/json"),
]
GARBAGE_TOKENS = ["garbage", "null", "%%%", base64.urlsafe_b64encode(b'{"x":}').decode(),
                  base64.urlsafe_b64encode(b'{"a": 1}').decode(), base64.urlsafe_b64encode(b"[1, 2]").decode()]
WEBHOOK = "/runtime/webhooks/durabletask"
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


class Probe:
    """Sends requests and records every status; a problem is a 5xx, a 4xx without a JSON error
    message (but for the Functions host's own bare 401s, and 404s on the app's routes), a leaked
    system key, or a rejected request that created an instance or entity."""

    def __init__(self, env: DurableTestHost) -> None:
        self.env = env
        self.tally: Counter[int] = Counter()
        self.problems: list[str] = []
        self.requests = 0

    async def send(self, method: str, path: str, body: bytes = b"", content_type: str = "",
                   key: str | None = "function", headers: dict[str, str] | None = None) -> int:
        env = self.env
        self.requests += 1
        await env.settle()  # work accepted by earlier requests must not count against this one
        before = await _counts(env)
        all_headers = {**({"Content-Type": content_type} if content_type else {}), **(headers or {})}
        async with env.request(method, path, key=key, data=body, headers=all_headers) as response:
            status = response.status
            text = await response.text()
        self.tally[status] += 1
        where = f"{method} {path[:80]} [{len(body)} bytes]"
        if env.keys.system in text and not path.startswith(("/api/orchestrators/", "/runtime/")):
            self.problems.append(f"{where} -> {status} leaked the system key")
        if status >= 500:
            self.problems.append(f"{where} -> {status}: {text[:200]}")
            return status
        if text == "" and ((status in (401, 404) and path.startswith("/api/")) or status == 401):
            # The Functions host's own answers carry no body: UnauthorizedResult / NotFoundResult
            # (Azure/azure-functions-host src/WebJobs.Script.WebHost/Middleware/
            # FunctionInvocationMiddleware.cs ~101-128), and the webhooks' key check (HostController.
            # ExtensionWebHookHandler's SystemKeyAuthLevel policy); they must still create nothing.
            await env.settle()
            if await _counts(env) != before:
                self.problems.append(f"{where} -> {status} but created an instance or entity")
            return status
        if status >= 400:
            try:
                payload = json.loads(text)
            except ValueError:
                self.problems.append(f"{where} -> {status} without a JSON body: {text[:100]!r}")
                return status
            # (a JSON string is the message where the extension answers with one: the purge
            # filter's "Please provide value for 'createdTimeFrom' parameter.", HttpApiHandler.cs)
            if not (isinstance(payload, str) and payload) and (
                    not isinstance(payload, dict) or not ({"error", "Message"} & set(payload))):
                self.problems.append(f"{where} -> {status} without an error message: {text[:100]}")
            elif _echoes_internals(json.dumps(payload)):
                self.problems.append(f"{where} -> {status} echoes internal exception text: {text[:200]}")
            await env.settle()
            if await _counts(env) != before:
                self.problems.append(f"{where} -> {status} but created an instance or entity")
        return status

    def report(self, what: str) -> None:
        print(f"\n{what}: {self.requests} requests; by status: {dict(sorted(self.tally.items()))}")
        assert not self.problems, "\n".join(self.problems[:40]) + f"\n({len(self.problems)} problems)"
        assert all(status < 500 for status in self.tally)


_INTERNALS = re.compile(r"Traceback|RecursionError|JSONDecodeError|UnicodeDecodeError|Exceeds the limit|"
                        r"Exception while executing|sys\.set_int_max_str_digits|File \"")


def _echoes_internals(text: str) -> bool:
    return bool(_INTERNALS.search(text))


async def test_hostile_input_never_gets_a_5xx_and_creates_nothing_when_rejected(azurite, durable_host):
    env = durable_host
    probe = Probe(env)
    send = probe.send

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

    await _management_api(probe)
    probe.report("hostile input")


async def _management_api(probe: Probe) -> None:
    send = probe.send
    for instance_id in HOSTILE_IDS:
        for method, suffix in [("GET", ""), ("DELETE", ""), ("POST", "/raiseEvent/ApprovalEvent"),
                               ("POST", "/terminate?reason=x"), ("POST", "/suspend"), ("POST", "/resume"),
                               ("POST", "/restart"), ("POST", "/rewind")]:
            for _, body, content_type in HOSTILE_BODIES[:3] + HOSTILE_BODIES[-8:]:
                await send(method, f"{WEBHOOK}/instances/{instance_id}{suffix}", body, content_type, "system")
        await send("POST", f"{WEBHOOK}/orchestrators/{instance_id}", b"{}", "application/json", "system")
        await send("GET", f"{WEBHOOK}/entities/Counter/{instance_id}", b"", "", "system")
        await send("POST", f"{WEBHOOK}/entities/Counter/{instance_id}?op=get", b"1", "application/json", "system")
        await send("DELETE", f"{WEBHOOK}/entities/Counter/{instance_id}", b"", "", "system")
        await send("GET", f"{WEBHOOK}/instances/{instance_id}", b"", "", None)
    # Bodies reach the JSON reader only for a live instance, a known orchestrator or an entity.
    live = await probe.env.start(names.APPROVAL_WORKFLOW, {"request": {"item": "x"}, "timeout_hours": 1})
    for _, body, content_type in HOSTILE_BODIES:
        for path in (f"{WEBHOOK}/orchestrators/{names.APPROVAL_WORKFLOW}",
                     f"{WEBHOOK}/instances/{live}/raiseEvent/Other", f"{WEBHOOK}/entities/Counter/hostile?op=get"):
            await send("POST", path, body, content_type, "system")
    for query in ["?top=-1", "?top=abc", "?createdTimeFrom=yesterday", "?runtimeStatus=Nope", "?showHistory=maybe"]:
        await send("GET", f"{WEBHOOK}/instances{query}", b"", "", "system")
    for token in GARBAGE_TOKENS:
        for path in (f"{WEBHOOK}/instances", f"{WEBHOOK}/instances?top=1", f"{WEBHOOK}/entities/Counter"):
            await send("GET", path, key="system", headers={"x-ms-continuation-token": token})
    await send("DELETE", f"{WEBHOOK}/instances?createdTimeFrom=not-a-date", b"", "", "system")


async def test_management_api_on_azure_storage_never_gets_a_5xx(azurite):
    """The Azure Storage provider is where an over-long entity key (a 2,000-character partition
    key: Azure Tables refuses keys over 1 KiB) and an undecodable continuation token used to be
    500s; the served host uses it whenever ``AzureWebJobsStorage`` is set."""
    hub = unique_hub()
    try:
        async with DurableTestHost.start_time_skipping(".", store=await open_azure(azurite, hub)) as env:
            probe = Probe(env)
            await _management_api(probe)
            probe.report("hostile input, management API on Azure Storage")
    finally:
        cleanup = await open_azure(azurite, hub)  # the host closed its store
        await cleanup.delete_task_hub()
        await cleanup.close()


async def test_issue_12_sequences_never_get_a_5xx(azurite, durable_host):
    """Valid requests in a hostile order (issue 12): two adds of 2^53-1 used to poison a counter
    (GET 500 forever, reset/delete silently failing); a second approval decision, sequential or
    concurrent, used to get a 202 and be dropped; an early one used to be refused."""
    env = durable_host
    probe = Probe(env)
    json_type = "application/json"
    big = str(2**53 - 1).encode()
    counter = "/api/counters/poison"
    assert [await probe.send("POST", f"{counter}/add", big, json_type) for _ in range(2)] == [202, 409]
    await env.settle()
    assert await probe.send("GET", counter) == 200
    assert await probe.send("POST", f"{counter}/add", b"-1", json_type) == 202
    assert await probe.send("POST", "/api/orchestrators/counter_workflow", json.dumps(
        {"key": "poison", "increments": [1, 1]}).encode(), json_type) == 202
    assert await probe.send("POST", f"{counter}/reset") == 202
    assert await probe.send("DELETE", counter) == 202
    await env.settle()
    assert await probe.send("GET", counter) == 404

    start = json.dumps({"request": {"item": "laptop"}}).encode()
    decision = json.dumps({"approved": True, "approver": "a"}).encode()
    async with env.request("POST", "/api/approvals", data=start, headers={"Content-Type": json_type}) as r:
        early = (await r.json())["id"]
    sequential = [await probe.send("POST", f"/api/approvals/{early}", decision, json_type) for _ in range(2)]
    assert sequential == [202, 409]
    async with env.request("POST", "/api/approvals", data=start, headers={"Content-Type": json_type}) as r:
        contested = (await r.json())["id"]
    concurrent = await asyncio.gather(*(probe.send("POST", f"/api/approvals/{contested}", decision, json_type)
                                        for _ in range(5)))
    assert sorted(concurrent) == [202, 409, 409, 409, 409]
    # Numbers a start accepted used to fail the instance later: a job whose total overflows to
    # infinity (GET /api/jobs/{id} then answers the documented 500 of a failed job), a unit price
    # beyond what the pricing math can round.
    assert await probe.send("POST", "/api/jobs", b'{"job": "j", "items": [1e308, 1e308]}', json_type) == 400
    assert await probe.send("POST", "/api/orchestrators/chaining", json.dumps(
        {"order_id": "o", "items": [{"sku": "A", "quantity": 1, "unit_price": 1e300}]}).encode(), json_type) == 400
    probe.report("hostile sequences")


def test_no_app_route_is_anonymous(durable_host):
    anonymous = [info.name for info in durable_host.host.index.of_kind("http") if info.auth_level == "anonymous"]
    assert anonymous == []
