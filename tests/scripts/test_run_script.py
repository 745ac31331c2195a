"""scripts/run.sh as a developer runs it: a real subprocess, real ports, real signals.

It refuses a busy port with one line before starting anything, seeds the sample blobs the
README's fan-out call reads, prints the key as an ``export KEY=`` line, forwards SIGTERM/SIGINT
to the host and stops only the Azurite it started. Installs nothing when bootstrap's stamps
match (scripts/test.sh has just bootstrapped).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import azurite as azurite_tool  # noqa: E402
from ports import listening  # noqa: E402


@dataclass
class RunScript:
    process: subprocess.Popen
    log: Path
    port: int
    azurite_ports: list[int]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def key(self, timeout: float = 90.0) -> str:
        """The function key from the ``export KEY=`` line, once the host serves."""
        deadline = time.monotonic() + timeout
        while not (found := re.search(r"^export KEY=(\S+)$", self.output(), re.M)):
            assert self.process.poll() is None and time.monotonic() < deadline, self.output()
            time.sleep(0.1)
        return found.group(1)

    def stop(self, sig: signal.Signals) -> int:
        self.process.send_signal(sig)  # to run.sh only, as `kill -TERM <pid>` does
        return self.process.wait(timeout=30)


def _run_script(tmp_path: Path, port: int, azurite_ports: list[int], *args: str) -> RunScript:
    env = {**os.environ, "AZURITE_PORTS": ",".join(map(str, azurite_ports)), "AZURITE_DATA": str(tmp_path / "az"),
           "PYTHONUNBUFFERED": "1"}
    env.pop("AzureWebJobsStorage", None)
    log = tmp_path / f"run-{port}-{len(list(tmp_path.glob('run-*')))}.log"
    with open(log, "w") as out:
        process = subprocess.Popen(["scripts/run.sh", "--devhost", "--port", str(port), *args], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return RunScript(process, log, port, azurite_ports)


@pytest.fixture
def ports() -> tuple[int, list[int]]:
    return azurite_tool.free_port(), [azurite_tool.free_port() for _ in range(3)]


@pytest.fixture
def cleanup() -> Iterator[list[RunScript]]:
    started: list[RunScript] = []
    yield started
    for run in started:  # a failed test must not leave a host or an Azurite behind
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait()
        subprocess.run([sys.executable, "tools/azurite.py", "stop", "--data", str(run.log.parent / "az")], cwd=ROOT)


def _request(method: str, url: str, key: str | None, body: object = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", **({"x-functions-key": key} if key else {})}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def readme_fan_out_body() -> dict:
    line = next(line for line in (ROOT / "README.md").read_text().splitlines()
                if line.startswith("curl") and "/api/orchestrators/fan_out_fan_in" in line)
    return json.loads(re.search(r"-d '(.*?)'", line).group(1))


def test_a_busy_port_is_refused_with_one_line_before_anything_starts(tmp_path, ports, cleanup):
    port, azurite_ports = ports
    with __import__("socket").socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        run = _run_script(tmp_path, port, azurite_ports)
        cleanup.append(run)
        assert run.process.wait(timeout=30) == 1
    assert run.output().splitlines() == [
        f"run: port {port} is already in use (another ./scripts/run.sh or func start?): stop it or pass --port N"]
    assert not any(listening(p) for p in azurite_ports)


def test_serves_seeded_samples_and_sigterm_stops_the_host_and_its_own_azurite(tmp_path, ports, cleanup):
    port, azurite_ports = ports
    run = _run_script(tmp_path, port, azurite_ports)
    cleanup.append(run)
    key = run.key()
    assert "seed: 4 sample blobs in input/2024/05/" in run.output()

    base = f"http://127.0.0.1:{port}"
    status, started = _request("POST", f"{base}/api/orchestrators/fan_out_fan_in", key, readme_fan_out_body())
    assert status == 202, started
    deadline = time.monotonic() + 60
    while (done := _request("GET", started["statusQueryGetUri"], None)[1])["runtimeStatus"] != "Completed":
        assert time.monotonic() < deadline and done["runtimeStatus"] in ("Pending", "Running"), done
        time.sleep(0.2)
    assert done["output"]["blob_count"] == 4 and done["output"]["total_bytes"] > 0

    second = _run_script(tmp_path, port, azurite_ports)  # a second run.sh on the same port
    cleanup.append(second)
    assert second.process.wait(timeout=30) == 1 and len(second.output().splitlines()) == 1
    assert listening(azurite_ports[0]) and listening(port)  # the first one's Azurite and host still run

    assert run.stop(signal.SIGTERM) == 0
    assert not listening(port) and not any(listening(p) for p in azurite_ports)


def test_sigint_leaves_an_azurite_it_did_not_start_running(tmp_path, ports, cleanup):
    port, azurite_ports = ports
    blob, queue, table = azurite_ports
    emulator = azurite_tool.AzuriteProcess(tmp_path / "own-azurite", blob, queue, table).start()
    try:
        run = _run_script(tmp_path, port, azurite_ports)
        cleanup.append(run)
        run.key()
        assert f"using the Azurite already listening on {blob}" in run.output()
        assert run.stop(signal.SIGINT) == 0
        assert not listening(port)
        assert all(listening(p) for p in azurite_ports)
    finally:
        emulator.stop()
