"""Random SIGKILL soak: the served host on Azurite, killed and restarted while it runs a mixed workload.

    python scripts/soak.py [--kills 10] [--fanouts 3] [--blobs 200] [--timeout 600]

Starts Azurite (unless ``AzureWebJobsStorage`` is set), then ``python -m devhost`` on the app at
the repository root (loopback only, ``--no-auth``), submits the workload in waves - fan-outs of
``--blobs`` blobs, approvals (decided once they wait), ``counter_workflow``s on 4 counters,
order chains, client adds to 4 other counters - and SIGKILLs the host at random moments,
restarting it on the same storage each time. Then it waits until nothing is running and prints
one line of figures: kills, instances, stuck (not finished), wrong (output not the expected one),
counters off (value outside what the acknowledged and unacknowledged adds allow). Exit code 1
unless stuck = wrong = counters off = 0. Bounded: ``--timeout`` seconds for the whole run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]
from azurite import temporary
from tests.host.recovery.hostproc import TERMINAL, WEBHOOK, HostProcess

ORDER = [{"sku": "A1", "quantity": 2, "unit_price": 3.5}]
INCREMENTS = [5, 10]


class Soak:
    def __init__(self, host: HostProcess, session: aiohttp.ClientSession, tag: str) -> None:
        self.host, self.session, self.tag = host, session, tag
        self.expected: dict[str, Any] = {}  # instance id -> what its output must contain
        self.approvals: set[str] = set()
        self.adds_acked: dict[str, int] = {}
        self.adds_unsure: dict[str, int] = {}
        self.workflows: set[str] = set()  # counter keys of the workflows

    async def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.post(self.host.base_url + path, json=body) as response:
            return response.status, await response.json(content_type=None) if response.status != 204 else None

    async def start(self, path: str, body: Any, expect: Any) -> None:
        """Start an instance; a start the dead host did not answer is retried (at most one extra)."""
        for _ in range(100):
            try:
                status, payload = await self.post(path, body)
                if status == 202:
                    self.expected[payload["id"]] = expect
                    return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.5)
        raise RuntimeError(f"could not start {path}")

    async def add(self, key: str) -> None:
        try:
            status, _ = await self.post(f"/api/counters/{key}/add", 1)
            if status == 202:
                self.adds_acked[key] = self.adds_acked.get(key, 0) + 1
                return
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        self.adds_unsure[key] = self.adds_unsure.get(key, 0) + 1  # may or may not have landed

    async def wave(self, wave: int, waves: int, args: argparse.Namespace, blob_prefixes: list[str]) -> None:
        """Submit wave ``wave`` of ``waves``: its part of each kind of work (the parts add up)."""
        def share(total: int) -> int:
            return (wave + 1) * total // waves - wave * total // waves

        jobs: list[Any] = []
        for _ in range(share(args.chains)):
            order_id = f"soak-{uuid.uuid4().hex[:8]}"
            jobs.append(self.start("/api/orchestrators/chaining", {"order_id": order_id, "items": ORDER},
                                   {"order_id": order_id, "total": 7.56, "reserved_skus": ["A1"]}))
        for _ in range(share(args.workflows)):
            key = f"{self.tag}-wf{random.randrange(4)}"
            self.workflows.add(key)
            jobs.append(self.start("/api/orchestrators/counter_workflow", {"key": key, "increments": INCREMENTS},
                                   {"key": key, "signals": len(INCREMENTS)}))
        for _ in range(share(args.approvals)):
            jobs.append(self.start("/api/approvals", {"request": {"item": "laptop"}, "timeout_hours": 24},
                                   {"outcome": "approved", "approver": "soak"}))
        for _ in range(share(args.adds)):
            jobs.append(self.add(f"{self.tag}-add{random.randrange(4)}"))
        for prefix in blob_prefixes[wave * len(blob_prefixes) // waves:(wave + 1) * len(blob_prefixes) // waves]:
            jobs.append(self.start("/api/orchestrators/fan_out_fan_in", {"container": "input", "prefix": prefix},
                                   {"blob_count": args.blobs}))
        await asyncio.gather(*jobs)

    async def status(self, instance_id: str) -> dict[str, Any] | None:
        try:
            async with self.session.get(f"{self.host.base_url}{WEBHOOK}/instances/{instance_id}") as response:
                return await response.json() if response.status in (200, 202) else None
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return None

    async def all_instances(self, since: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        token = None
        while True:
            headers = {"x-ms-continuation-token": token} if token else {}
            params = {"createdTimeFrom": since, "showInput": "true", "top": "500"}
            async with self.session.get(f"{self.host.base_url}{WEBHOOK}/instances", params=params,
                                        headers=headers) as response:
                rows.extend(await response.json())
                token = response.headers.get("x-ms-continuation-token")
            if not token or token == "null":
                return rows

    async def decide_waiting_approvals(self, since: str) -> None:
        """Decide every waiting approval, also those whose start a kill left unacknowledged."""
        try:
            instances = await self.all_instances(since)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return
        for status in instances:
            instance_id, custom = status["instanceId"], status.get("customStatus")
            if status["name"] != "approval_workflow" or instance_id in self.approvals:
                continue
            if isinstance(custom, dict) and custom.get("state") == "waiting":
                try:
                    code, _ = await self.post(f"/api/approvals/{instance_id}", {"approved": True, "approver": "soak"})
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    continue
                if code in (202, 409):  # 409: decided already (a retry after a kill)
                    self.approvals.add(instance_id)

    async def entity_value(self, key: str) -> int | None:
        async with self.session.get(f"{self.host.base_url}/api/counters/{key}") as response:
            return (await response.json())["value"] if response.status == 200 else None


def _wrong(status: dict[str, Any], expect: dict[str, Any]) -> bool:
    output = status.get("output")
    return status["runtimeStatus"] != "Completed" or not isinstance(output, dict) \
        or any(output.get(k) != v for k, v in expect.items())


async def soak(args: argparse.Namespace, connection: str) -> dict[str, Any]:
    from azure.storage.blob.aio import BlobServiceClient

    tag = uuid.uuid4().hex[:6]
    prefixes = [f"soak-{tag}/f{i}/" for i in range(args.fanouts)]
    async with BlobServiceClient.from_connection_string(connection) as blobs:
        container = blobs.get_container_client("input")
        if not await container.exists():
            await container.create_container()
        await asyncio.gather(*(container.upload_blob(f"{p}{i:04d}.txt", b"x" * 32, overwrite=True)
                               for p in prefixes for i in range(args.blobs)))
    log = Path(tempfile.gettempdir()) / f"devhost-soak-{tag}.log"
    os.environ["TASK_HUB_NAME"] = f"soak{tag}"  # (the app's host.json names the hub %TASK_HUB_NAME%)
    host = HostProcess(connection, f"soak{tag}", Path(tempfile.mkdtemp()), log, app=ROOT, args=("--no-auth",))
    since = datetime.now(timezone.utc).isoformat()
    deadline = time.monotonic() + args.timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        try:
            return await _run(args, host, session, tag, since, deadline, prefixes)
        finally:
            host.stop()


async def _run(args: argparse.Namespace, host: HostProcess, session: aiohttp.ClientSession, tag: str, since: str,
               deadline: float, prefixes: list[str]) -> dict[str, Any]:
    await host.start(timeout=60)
    run = Soak(host, session, tag)
    kills = 0
    waves = args.kills + 1
    for wave in range(waves):
        submit = asyncio.create_task(run.wave(wave, waves, args, prefixes))
        await asyncio.sleep(random.uniform(0.3, 3.0))
        await run.decide_waiting_approvals(since)
        if wave < args.kills:
            host.kill()
            kills += 1
            await asyncio.sleep(random.uniform(0.0, 1.0))
            await host.start(timeout=60)
        await submit
    while True:
        await run.decide_waiting_approvals(since)
        instances = await run.all_instances(since)
        pending = [i for i in instances if i["runtimeStatus"] not in TERMINAL]
        if not pending or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    wrong = 0
    for instance_id, expect in run.expected.items():
        status = await run.status(instance_id)
        if status and status["runtimeStatus"] in TERMINAL and _wrong(status, expect):
            wrong += 1
            print(f"wrong: {instance_id} {status['runtimeStatus']} {status.get('output')}", file=sys.stderr)
    off = []
    for key in run.workflows:  # (every workflow that ran counts, acknowledged or not)
        workflows = sum(1 for i in instances if i["name"] == "counter_workflow" and key in json.dumps(i["input"]))
        value = await run.entity_value(key)
        if value != workflows * sum(INCREMENTS):
            off.append((key, value, workflows * sum(INCREMENTS)))
    for key in set(run.adds_acked) | set(run.adds_unsure):
        low = run.adds_acked.get(key, 0)
        value = await run.entity_value(key) or 0
        if not low <= value <= low + run.adds_unsure.get(key, 0):
            off.append((key, value, (low, low + run.adds_unsure.get(key, 0))))
    for key, value, want in off:
        print(f"counter off: {key} = {value}, expected {want}", file=sys.stderr)
    for instance in pending:
        print(f"stuck: {instance['instanceId']} {instance['name']} {instance['runtimeStatus']}", file=sys.stderr)
    return {"kills": kills, "instances": len(instances), "acknowledged_starts": len(run.expected), "stuck": len(pending), "wrong": wrong,
            "counters_off": len(off), "adds_unacknowledged": sum(run.adds_unsure.values()),
            "log": str(host.log_path)}

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--fanouts", type=int, default=3)
    parser.add_argument("--blobs", type=int, default=200)
    parser.add_argument("--approvals", type=int, default=20)
    parser.add_argument("--workflows", type=int, default=40)
    parser.add_argument("--chains", type=int, default=30)
    parser.add_argument("--adds", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole run")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    random.seed(args.seed)
    connection = os.environ.get("AzureWebJobsStorage")
    emulator = None if connection else temporary().start()
    try:
        started = time.monotonic()
        figures = asyncio.run(soak(args, connection or emulator.connection_string))
        figures["seconds"] = round(time.monotonic() - started)
    finally:
        if emulator is not None:
            emulator.stop()
    print(" ".join(f"{k}={v}" for k, v in figures.items()))
    return 0 if figures["stuck"] == figures["wrong"] == figures["counters_off"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
