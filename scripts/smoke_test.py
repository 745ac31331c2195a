#!/usr/bin/env python3
"""Post-deploy smoke check: call every pattern's endpoint and report pass/fail per pattern.

    python scripts/smoke_test.py                       # base URL and key from azd env / az CLI
    python scripts/smoke_test.py --base-url https://func-api-xxxx.azurewebsites.net --key=<function key>  # "=": a key may start with "-"
    FUNCTION_KEY=... python scripts/smoke_test.py --base-url ...

Base URL: --base-url, else SERVICE_API_URI from the environment or `azd env get-values`.
Key: --key, else FUNCTION_KEY, else `az functionapp keys list` for AZURE_FUNCTION_APP_NAME in
AZURE_RESOURCE_GROUP. Exit code 1 if any pattern fails (WARN does not fail unless --strict).
Standard library only.

Only the function key is needed. The management URLs the generic starter returns
(statusQueryGetUri, ...) carry the system key in ``code=`` and are called exactly as given: the
Functions host reads the ``x-functions-key`` header before ``code=`` (Azure/azure-functions-host,
AuthenticationLevelHandler.cs: "header takes precedence"), so adding the function key to them
would be refused with 401.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass

TERMINAL = {"Completed", "Failed", "Terminated", "Canceled"}


class CheckFailed(Exception):
    pass


class CheckWarning(Exception):
    pass


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    def json(self):
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def error(self) -> str:
        data = self.json()
        if isinstance(data, dict) and "error" in data:
            return str(data["error"])
        return self.body[:200].decode("utf-8", "replace")


class Client:
    def __init__(self, base_url: str, key: str, timeout: float, poll_interval: float):
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.poll_interval = poll_interval

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return urllib.parse.urljoin(self.base_url + "/", path_or_url.lstrip("/"))

    def request(self, method: str, path_or_url: str, body=None) -> Response:
        url = self.url(path_or_url)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        if "code" not in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query):
            req.add_header("x-functions-key", self.key)  # a URL with its own code= is called as given
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=min(30.0, self.timeout)) as resp:
                return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
        except urllib.error.HTTPError as err:
            return Response(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())

    def expect(self, resp: Response, *statuses: int, what: str) -> Response:
        if resp.status not in statuses:
            hint = " (is the key the app's function key?)" if resp.status in (401, 403) else ""
            raise CheckFailed(f"{what}: HTTP {resp.status}{hint} (expected {'/'.join(map(str, statuses))}): "
                              f"{resp.error()}")
        return resp

    def poll(self, what: str, probe):
        """Call probe() until it returns (value, _) with a value other than None, within the timeout;
        probe's second item describes what it saw, for the timeout message."""
        deadline = time.monotonic() + self.timeout
        while True:
            result, seen = probe()
            if result is not None:
                return result
            if time.monotonic() >= deadline:
                raise CheckFailed(f"{what}: not done after {self.timeout:g}s (last seen: {seen})")
            time.sleep(self.poll_interval)

    def status(self, status_url: str, what: str) -> dict:
        """One read of an instance status (200 when finished, 202 while running); a refused key
        (401/403) fails at once, anything else (a cold start's 5xx) is read again by the caller."""
        got = self.request("GET", status_url)
        if got.status in (401, 403):
            self.expect(got, 200, 202, what=f"{what}: GET {status_url.split('?')[0]}")
        data = got.json() if got.status in (200, 202) else None
        return data if isinstance(data, dict) else {"http": got.status, "body": got.error()}

    def wait_for_instance(self, status_url: str, what: str) -> dict:
        def probe():
            status = self.status(status_url, what)
            return (status if status.get("runtimeStatus") in TERMINAL else None), status

        status = self.poll(what, probe)
        if status["runtimeStatus"] != "Completed":
            raise CheckFailed(f"{what}: {status['runtimeStatus']}: {status.get('output')}")
        return status


def start_orchestration(c: Client, name: str, body, what: str, resp: Response | None = None) -> dict:
    resp = c.expect(resp or c.request("POST", f"/api/orchestrators/{name}", body), 202, what=what)
    payload = resp.json() or {}
    if not isinstance(payload, dict) or "statusQueryGetUri" not in payload:
        raise CheckFailed(f"{what}: 202 without a check-status payload (statusQueryGetUri)")
    return payload


def check_chaining(c: Client) -> str:
    body = {"order_id": "smoke-1", "items": [{"sku": "A1", "quantity": 2, "unit_price": 3.5}]}
    resp = c.request("POST", "/api/orchestrators/chaining", body)
    if resp.status == 400:
        raise CheckWarning(f"chaining rejected the smoke input (400: {resp.error()}); update the input in "
                           "scripts/smoke_test.py to the orchestrator's schema")
    started = start_orchestration(c, "chaining", body, "start chaining", resp)
    status = c.wait_for_instance(started["statusQueryGetUri"], "chaining")
    return f"Completed, output={json.dumps(status.get('output'))[:80]}"


def check_fan_out_fan_in(c: Client) -> str:
    started = start_orchestration(c, "fan_out_fan_in", {"container": "input", "prefix": "smoke/"}, "start fan_out_fan_in")
    output = c.wait_for_instance(started["statusQueryGetUri"], "fan_out_fan_in").get("output")
    keys = " ".join(output.keys()).lower() if isinstance(output, dict) else ""
    if "count" not in keys or "bytes" not in keys:
        raise CheckFailed(f"fan_out_fan_in output lacks a blob count and total bytes: {output!r}")
    return f"Completed, output={json.dumps(output)[:80]}"


def check_async_http_api(c: Client) -> str:
    resp = c.expect(c.request("POST", "/api/jobs", {"job": "smoke", "items": [1, 2, 3]}), 202, what="POST /api/jobs")
    location = resp.headers.get("location")
    if not location or "/api/jobs/" not in location:
        raise CheckFailed(f"POST /api/jobs: Location header is {location!r}, expected /api/jobs/{{id}}")
    if "retry-after" not in resp.headers:
        raise CheckFailed("POST /api/jobs: no Retry-After header")

    def probe():
        got = c.request("GET", location)
        if got.status == 202:
            return None, f"202 {got.error()}"
        return c.expect(got, 200, what=f"GET {location}"), None

    done = c.poll("job", probe)
    return f"200 after polling {location}, output={done.body[:80].decode('utf-8', 'replace')}"


def check_monitor(c: Client) -> str:
    job_id = f"smoke-{uuid.uuid4().hex[:8]}"
    resp = c.request("POST", f"/api/monitors/{job_id}", {"polling_interval_seconds": 5, "expiry_seconds": 60})
    if resp.status == 409:
        return f"409: a monitor for {job_id} is already running"
    c.expect(resp, 202, what=f"POST /api/monitors/{job_id}")
    return f"202, monitor for {job_id} started"


def check_human_interaction(c: Client) -> str:
    resp = c.expect(c.request("POST", "/api/approvals", {"request": {"title": "smoke", "amount": 1}, "timeout_hours": 1}),
                    202, what="POST /api/approvals")
    payload = resp.json() or {}
    instance_id = payload.get("id") if isinstance(payload, dict) else None
    status_url = (payload.get("statusUri") if isinstance(payload, dict) else None) or resp.headers.get("location")
    if not instance_id or not status_url:
        raise CheckFailed(f"POST /api/approvals returned no id and status URL: {payload!r}")
    what = f"approval {instance_id}"

    # Decide only once the instance reports it is waiting (custom status state "waiting"): on Azure
    # the orchestrator starts seconds after the 202, and the route refuses a decision before that.
    def waiting():
        status = c.status(status_url, what)
        if status.get("runtimeStatus") in TERMINAL:
            raise CheckFailed(f"{what} ended before it waited for a decision: {status}")
        return (status if status.get("state") == "waiting" else None), status

    c.poll(f"{what} waiting for a decision", waiting)
    c.expect(c.request("POST", f"/api/approvals/{instance_id}", {"approved": True, "approver": "smoke"}), 202,
             what=f"POST /api/approvals/{instance_id}")
    output = c.wait_for_instance(status_url, what).get("output")
    if not isinstance(output, dict) or output.get("outcome") != "approved":
        raise CheckFailed(f"{what}: Completed without outcome 'approved': {output!r}")
    return f"{what} waited, approved, Completed"


def check_counter(c: Client) -> str:
    key = f"smoke-{uuid.uuid4().hex[:8]}"
    base = f"/api/counters/{key}"
    c.expect(c.request("POST", f"{base}/reset"), 200, 202, what="reset")
    c.expect(c.request("POST", f"{base}/add", 2), 200, 202, what="add 2")
    c.expect(c.request("POST", f"{base}/add", 3), 200, 202, what="add 3")

    def probe():  # entity signals are applied asynchronously
        got = c.request("GET", base)
        data = got.json() if got.status == 200 else None
        return (data if isinstance(data, dict) and data.get("value") == 5 else None), f"{got.status} {got.error()}"

    data = c.poll(f"counter {key} == 5", probe)
    if data.get("key") != key:
        raise CheckFailed(f"GET {base} returned key {data.get('key')!r}")
    c.expect(c.request("DELETE", base), 200, 202, 204, what="DELETE")
    return f"{key}: 0 + 2 + 3 = {data['value']}, deleted"


CHECKS = {
    "chaining": check_chaining,
    "fan_out_fan_in": check_fan_out_fan_in,
    "async_http_api": check_async_http_api,
    "monitor": check_monitor,
    "human_interaction": check_human_interaction,
    "counter_entity": check_counter,
}


def azd_env() -> dict:
    if not shutil.which("azd"):
        return {}
    try:
        out = subprocess.run(["azd", "env", "get-values"], capture_output=True, text=True, timeout=60, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return {}
    values = {}
    for line in out.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            values[name.strip()] = value.strip().strip('"')
    return values


def function_key(env: dict) -> str | None:
    app, group = env.get("AZURE_FUNCTION_APP_NAME"), env.get("AZURE_RESOURCE_GROUP")
    if not (app and group and shutil.which("az")):
        return None
    try:
        out = subprocess.run(["az", "functionapp", "keys", "list", "-g", group, "-n", app,
                              "--query", "functionKeys.default", "-o", "tsv"],
                             capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    except (subprocess.SubprocessError, OSError):
        return None
    return out or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", help="function app URL, e.g. https://<app>.azurewebsites.net")
    parser.add_argument("--key", help="function key (default: FUNCTION_KEY or az functionapp keys list)")
    parser.add_argument("--only", action="append", choices=sorted(CHECKS), help="run only these patterns")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait per pattern (default 180)")
    parser.add_argument("--poll-interval", type=float, default=2, help="seconds between status polls")
    parser.add_argument("--strict", action="store_true", help="treat WARN as failure")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    if not (args.base_url or env.get("SERVICE_API_URI")) or not (args.key or env.get("FUNCTION_KEY")):
        env = {**azd_env(), **env}
    base_url = args.base_url or env.get("SERVICE_API_URI")
    key = args.key or env.get("FUNCTION_KEY") or function_key(env)
    if not base_url or not key:
        print("smoke_test: need --base-url (or SERVICE_API_URI / azd env) and --key (or FUNCTION_KEY / az CLI)",
              file=sys.stderr)
        return 2

    client = Client(base_url, key, args.timeout, args.poll_interval)
    failed = warned = 0
    print(f"smoke test against {client.base_url}")
    for name in args.only or CHECKS:
        started = time.monotonic()
        try:
            detail, verdict = CHECKS[name](client), "PASS"
        except CheckWarning as w:
            detail, verdict = str(w), "WARN"
            warned += 1
        except (CheckFailed, urllib.error.URLError, OSError, ValueError, KeyError) as e:
            detail, verdict = f"{type(e).__name__}: {e}" if not isinstance(e, CheckFailed) else str(e), "FAIL"
            failed += 1
        print(f"{verdict:4}  {name:18} {time.monotonic() - started:5.1f}s  {detail}", flush=True)
    passed = len(args.only or CHECKS) - failed - warned
    print(f"{passed} passed, {failed} failed" + (f", {warned} warned" if warned else ""))
    return 1 if failed or (args.strict and warned) else 0


if __name__ == "__main__":
    sys.exit(main())
