"""The post-deploy smoke check (scripts/smoke_test.py) passes against the app on the local host.

Runs `python -m devhost` as a real process (as `scripts/run.sh` does) against the session's
Azurite, then the smoke script as a real process: the same check users run after `azd up`.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MASTER = "smoke-test-master-key"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_smoke_script_passes_against_the_app_on_devhost(azurite, tmp_path):
    port = _free_port()
    env = {**os.environ, "AzureWebJobsStorage": azurite, "DEVHOST_MASTER_KEY": MASTER,
           "TASK_HUB_NAME": "smoke", "PYTHONUNBUFFERED": "1"}
    log = open(tmp_path / "devhost.log", "w")
    host = subprocess.Popen([sys.executable, "-m", "devhost", "--port", str(port), "--store", "memory"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "devhost.log").read_text()
                time.sleep(0.1)
        smoke = subprocess.run([sys.executable, "scripts/smoke_test.py", "--base-url", base, "--key", MASTER,
                                "--timeout", "60", "--poll-interval", "0.2", "--strict"],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
        assert smoke.returncode == 0, smoke.stdout + smoke.stderr
        assert "6 passed, 0 failed" in smoke.stdout
    finally:
        host.terminate()
        host.wait(timeout=10)
        log.close()
