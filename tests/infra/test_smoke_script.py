"""scripts/smoke_test.py against a fake app on 127.0.0.1 that follows the HTTP contract.

The fake checks keys as the Functions host does: the ``x-functions-key`` header takes precedence
over ``code=`` (Azure/azure-functions-host, src/WebJobs.Script.WebHost/Security/Authentication/
Keys/AuthenticationLevelHandler.cs), management URLs need the system key, and an approval refuses
a decision (409) until its instance reports the custom status state "waiting".
"""
from __future__ import annotations

import importlib.util
import sys
import json
import threading
import uuid
from urllib.parse import parse_qs, urlsplit
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("smoke_test", ROOT / "scripts" / "smoke_test.py")
smoke = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = smoke  # dataclasses look the module up
spec.loader.exec_module(smoke)

KEY = "test-key"
SYSTEM_KEY = "sys"


class FakeApp(BaseHTTPRequestHandler):
    instances: dict = {}
    counters: dict = {}
    jobs: dict = {}
    broken_counter = False
    chaining_status = 202
    polls_until_waiting = 2  # GETs of an approval before its orchestrator reports "waiting"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def base(self):
        return f"http://{self.headers['Host']}"

    def start(self, output):
        iid = uuid.uuid4().hex
        self.instances[iid] = {"polls": 0, "output": output}
        return {"id": iid,
                "statusQueryGetUri": f"{self.base()}/runtime/webhooks/durabletask/instances/{iid}?code={SYSTEM_KEY}"}

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def authorized(self):
        query = parse_qs(urlsplit(self.path).query)
        presented = self.headers.get("x-functions-key") or (query.get("code") or [None])[0]
        if presented == (SYSTEM_KEY if self.path.startswith("/runtime/") else KEY):
            return True
        self.reply(401, {"error": "missing or wrong key"})
        return False

    def do_POST(self):
        if not self.authorized():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        body = self.body()
        if parts[:2] == ["api", "orchestrators"]:
            if parts[2] == "chaining" and self.chaining_status == 400:
                return self.reply(400, {"error": "items[0].price is required"})
            output = {"blob_count": 0, "total_bytes": 0} if parts[2] == "fan_out_fan_in" else {"total": 7.0}
            return self.reply(202, self.start(output))
        if parts == ["api", "jobs"]:
            jid = uuid.uuid4().hex
            self.jobs[jid] = 0
            return self.reply(202, {"id": jid}, {"Location": f"/api/jobs/{jid}", "Retry-After": "1"})
        if parts[:2] == ["api", "monitors"]:
            return self.reply(202, self.start(None))
        if parts == ["api", "approvals"]:
            assert body["timeout_hours"] == 1
            iid = self.start(None)["id"]
            self.instances[iid]["decision"] = None
            return self.reply(202, {"id": iid, "statusUri": f"/api/approvals/{iid}"},
                              {"Location": f"/api/approvals/{iid}", "Retry-After": "1"})
        if parts[:2] == ["api", "approvals"]:
            assert body == {"approved": True, "approver": "smoke"}
            inst = self.instances[parts[2]]
            if inst["polls"] < self.polls_until_waiting or inst["decision"] is not None:
                return self.reply(409, {"error": "approval is not waiting for a decision"})
            inst["decision"] = body
            return self.reply(202, {"id": parts[2]})
        if parts[:2] == ["api", "counters"]:
            key, op = parts[2], parts[3]
            if op == "reset":
                self.counters[key] = 0
            else:
                self.counters[key] = self.counters.get(key, 0) + int(body) + (1 if self.broken_counter else 0)
            return self.reply(202)
        self.reply(404, {"error": "not found"})

    def do_GET(self):
        if not self.authorized():
            return
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[:4] == ["runtime", "webhooks", "durabletask", "instances"]:
            inst = self.instances[parts[4]]
            inst["polls"] += 1
            done = inst["polls"] > 1
            return self.reply(200, {"runtimeStatus": "Completed" if done else "Running",
                                    "output": inst["output"] if done else None})
        if parts[:2] == ["api", "approvals"]:
            inst = self.instances[parts[2]]
            inst["polls"] += 1
            decided = inst["decision"] is not None
            state = "approved" if decided else ("waiting" if inst["polls"] >= self.polls_until_waiting else None)
            return self.reply(200, {"id": parts[2], "runtimeStatus": "Completed" if decided else "Running",
                                    "state": state, "output": {"outcome": "approved"} if decided else None})
        if parts[:2] == ["api", "jobs"]:
            self.jobs[parts[2]] += 1
            if self.jobs[parts[2]] < 2:
                return self.reply(202, {"status": "Running"}, {"Location": self.path, "Retry-After": "1"})
            return self.reply(200, {"result": "done"})
        if parts[:2] == ["api", "counters"]:
            return self.reply(200, {"key": parts[2], "value": self.counters.get(parts[2], 0)})
        self.reply(404, {"error": "not found"})

    def do_DELETE(self):
        if self.authorized():
            self.counters.pop(self.path.strip("/").split("/")[2], None)
            self.reply(204)


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setattr(FakeApp, "broken_counter", False)
    monkeypatch.setattr(FakeApp, "chaining_status", 202)
    monkeypatch.setattr(FakeApp, "polls_until_waiting", 2)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run(url, *extra):
    return smoke.main(["--base-url", url, "--key", KEY, "--timeout", "5", "--poll-interval", "0.05", *extra])


def test_all_patterns_pass(app, capsys):
    assert run(app) == 0
    out = capsys.readouterr().out
    for name in smoke.CHECKS:
        assert f"PASS  {name}" in out
    assert "6 passed, 0 failed" in out


def test_failure_gives_nonzero_exit(app, capsys, monkeypatch):
    monkeypatch.setattr(FakeApp, "broken_counter", True)
    assert smoke.main(["--base-url", app, "--key", KEY, "--only", "counter_entity", "--timeout", "0.5",
                       "--poll-interval", "0.05"]) == 1
    assert "FAIL  counter_entity" in capsys.readouterr().out


def test_chaining_schema_mismatch_is_reported_not_fatal(app, capsys, monkeypatch):
    monkeypatch.setattr(FakeApp, "chaining_status", 400)
    assert run(app, "--only", "chaining") == 0
    out = capsys.readouterr().out
    assert "WARN  chaining" in out and "items[0].price is required" in out
    assert run(app, "--only", "chaining", "--strict") == 1


def test_wrong_key_fails(app, capsys):
    assert smoke.main(["--base-url", app, "--key", "nope", "--only", "counter_entity", "--timeout", "1"]) == 1
    assert "401" in capsys.readouterr().out


def test_management_urls_are_called_with_their_own_code_not_the_function_key(app, capsys):
    """The statusQueryGetUri carries code=<system key>; adding the function-key header would win
    over it on the real host and get 401, so the script must send that URL as given."""
    assert run(app, "--only", "chaining", "--only", "fan_out_fan_in") == 0
    out = capsys.readouterr().out
    assert "PASS  chaining" in out and "PASS  fan_out_fan_in" in out


def test_approval_is_decided_only_after_it_reports_waiting(app, capsys, monkeypatch):
    monkeypatch.setattr(FakeApp, "polls_until_waiting", 5)
    assert run(app, "--only", "human_interaction") == 0
    assert "PASS  human_interaction" in capsys.readouterr().out


def test_approval_that_never_waits_fails_within_the_timeout_with_what_was_seen(app, capsys, monkeypatch):
    monkeypatch.setattr(FakeApp, "polls_until_waiting", 10**9)
    assert smoke.main(["--base-url", app, "--key", KEY, "--only", "human_interaction", "--timeout", "0.5",
                       "--poll-interval", "0.05"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  human_interaction" in out
    assert "waiting for a decision: not done after 0.5s" in out and "'runtimeStatus': 'Running'" in out
