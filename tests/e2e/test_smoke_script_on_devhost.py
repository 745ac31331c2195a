"""The post-deploy smoke check (scripts/smoke_test.py) passes against the app on the local host,
run the way an operator runs it: with the function key and nothing else.

Runs `python -m devhost` as a real process (as `scripts/run.sh` does) against the session's
Azurite, reads the function key from its start banner (what an operator copies), then runs the
smoke script as a real process. The master key is never given to the script: the management URLs
the generic starter returns carry the system key in `code=` and must be called as given (on Azure
the `x-functions-key` header takes precedence over `code=`, so adding the function key there
gets 401: Azure/azure-functions-host, src/WebJobs.Script.WebHost/Security/Authentication/Keys/
AuthenticationLevelHandler.cs, "header takes precedence").
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_KEY_LINE = re.compile(r"^Function key: (\S+)$", re.MULTILINE)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_function_key(base: str, log: Path, deadline: float) -> str:
    """Wait until the host answers and has printed its banner; return the printed function key."""
    while True:
        match = FUNCTION_KEY_LINE.search(log.read_text())
        if match:
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()
                return match.group(1)
            except OSError:
                pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def test_smoke_script_passes_with_only_the_function_key(azurite, tmp_path):
    port = _free_port()
    env = {**os.environ, "AzureWebJobsStorage": azurite, "TASK_HUB_NAME": "smoke", "PYTHONUNBUFFERED": "1"}
    env.pop("DEVHOST_MASTER_KEY", None)
    log_path = tmp_path / "devhost.log"
    log = open(log_path, "w")
    host = subprocess.Popen([sys.executable, "-m", "devhost", "--port", str(port), "--store", "memory"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        key = _wait_for_function_key(base, log_path, time.monotonic() + 30)
        smoke_env = {k: v for k, v in env.items() if k not in ("FUNCTION_KEY", "SERVICE_API_URI")}
        smoke = subprocess.run([sys.executable, "scripts/smoke_test.py", "--base-url", base, f"--key={key}",
                                "--timeout", "60", "--poll-interval", "0.2", "--strict"],
                               cwd=ROOT, env=smoke_env, capture_output=True, text=True, timeout=240)
        report = smoke.stdout + smoke.stderr
        assert smoke.returncode == 0, report
        for pattern in ("chaining", "fan_out_fan_in", "async_http_api", "monitor", "human_interaction",
                        "counter_entity"):
            assert re.search(rf"^PASS\s+{pattern}\s", smoke.stdout, re.MULTILINE), report
        assert "6 passed, 0 failed" in smoke.stdout, report
    finally:
        host.terminate()
        host.wait(timeout=10)
        log.close()
