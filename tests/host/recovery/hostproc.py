"""Run ``python -m devhost`` as a real subprocess on the Azure store, and talk to it over HTTP."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[3]
APP = Path(__file__).resolve().parent / "app"
MASTER_KEY = "recovery-tests-master-key"
WEBHOOK = "/runtime/webhooks/durabletask"
TERMINAL = {"Completed", "Failed", "Terminated", "Canceled"}

sys.path.insert(0, str(ROOT / "tools"))
from azurite import free_port  # noqa: E402


@dataclass
class HostProcess:
    connection: str
    hub: str
    markers: Path
    log_path: Path
    port: int = 0
    app: Path = APP
    settings: dict[str, str] = field(default_factory=dict)  # extra/overriding environment
    process: subprocess.Popen | None = field(default=None, repr=False)
    args: tuple[str, ...] = ()  # more command-line flags

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, timeout: float = 30.0) -> "HostProcess":
        self.port = free_port()
        env = dict(os.environ, AzureWebJobsStorage=self.connection, DEVHOST_MASTER_KEY=MASTER_KEY,
                   RECOVERY_TASK_HUB=self.hub, RECOVERY_MARKERS=str(self.markers),
                   DEVHOST_LEASE_SECONDS="2", DEVHOST_POLL_SECONDS="0.2", PYTHONUNBUFFERED="1")
        env.update(self.settings)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devhost", "--app-dir", str(self.app), "--port", str(self.port), "--store", "azure",
             *self.args],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"devhost exited with {self.process.returncode}:\n{self.log()}")
                try:
                    async with session.get(f"{self.base_url}{WEBHOOK}/instances", params={"code": MASTER_KEY}) as r:
                        if r.status == 200:
                            return self
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"devhost did not answer:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no clean-up, no lease release - a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # ------------------------------------------------------------------ HTTP
    async def call(self, method: str, path: str, json_body: Any = None, **params: str) -> tuple[int, Any]:
        params["code"] = MASTER_KEY
        async with aiohttp.ClientSession() as session:
            async with session.request(method, self.base_url + path, params=params, json=json_body) as response:
                text = await response.text()
                try:
                    return response.status, (await response.json(content_type=None)) if text else None
                except ValueError:
                    return response.status, text

    async def start_orchestration(self, name: str, body: Any = None, instance_id: str | None = None) -> str:
        params = {"id": instance_id} if instance_id else {}
        status, payload = await self.call("POST", f"/api/start/{name}", body, **params)
        assert status == 202, (status, payload)
        return payload["id"]

    async def status(self, instance_id: str) -> dict[str, Any] | None:
        status, payload = await self.call("GET", f"{WEBHOOK}/instances/{instance_id}")
        return payload if status in (200, 202) else None

    async def wait_for(self, instance_id: str, statuses: set[str] = TERMINAL, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = await self.status(instance_id)
            if last is not None and last["runtimeStatus"] in statuses:
                return last
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{instance_id} still {last}\n--- host log ---\n{self.log()[-4000:]}")

    async def raise_event(self, instance_id: str, name: str, data: Any) -> None:
        status, payload = await self.call("POST", f"{WEBHOOK}/instances/{instance_id}/raiseEvent/{name}", data)
        assert status == 202, (status, payload)

    async def add_to_counter(self, key: str, amount: int) -> None:
        """Signal through the app's durable client (what a real app does)."""
        status, payload = await self.call("POST", f"/api/counter/{key}/add", amount)
        assert status == 202, (status, payload)

    async def read_entity(self, entity: str, key: str) -> Any:
        status, payload = await self.call("GET", f"{WEBHOOK}/entities/{entity}/{key}")
        return payload if status == 200 else None


def marker_count(markers: Path, kind: str) -> int:
    folder = markers / kind
    return len(list(folder.iterdir())) if folder.is_dir() else 0


def executions(markers: Path, kind: str) -> list[tuple[str, int]]:
    """(key, pid) of every recorded execution of ``kind`` (markers are ``<key>.<pid>.<random>``)."""
    folder = markers / kind
    if not folder.is_dir():
        return []
    runs = []
    for path in folder.iterdir():
        key, pid, _ = path.name.rsplit(".", 2)
        runs.append((key, int(pid)))
    return runs
