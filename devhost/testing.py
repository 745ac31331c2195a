"""Test API: run the real app on the local host, in-process, on a free port, with time skipping.

    async with DurableTestHost.start_time_skipping("path/to/app") as env:
        instance_id = await env.start("chaining", {"order_id": "o-1"})
        status = await env.wait(instance_id)          # skips virtual time while waiting

Shaped like Temporal's ``WorkflowEnvironment``: a factory named after the mode, an async context
manager, ``advance(timedelta)`` and ``wait`` that moves virtual time until the instance settles.
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, AsyncIterator

import aiohttp
from azure.durable_functions.models.utils.df_serialization import df_dumps  # what start_new uses

from .app_index import AppIndex, load_app
from .clock import VirtualClock
from .config import load_config
from .disabled import DisabledFunctions
from .engine import compact
from .faults import FaultPlan
from .host import DurableHost, HostSettings
from .scheduler import RuntimeOptions
from .serve import RunningServer, serve
from .server import AuthPolicy, HostKeys
from .store.base import Store, TERMINAL_STATUSES
from .store.memory import MemoryStore


@dataclass
class DurableTestHost:
    host: DurableHost
    server: RunningServer
    keys: HostKeys
    clock: VirtualClock
    session: aiohttp.ClientSession

    # ------------------------------------------------------------------ factory
    @classmethod
    @contextlib.asynccontextmanager
    async def start_time_skipping(cls, app_dir: str | Path = ".", *, store: Store | None = None,
                                  start_time: datetime | None = None, auth: bool = True,
                                  options: RuntimeOptions | None = None, faults: FaultPlan | None = None,
                                  index: AppIndex | None = None) -> AsyncIterator["DurableTestHost"]:
        config = load_config(app_dir)
        index = index or load_app(config.app_dir)
        # host.json and the app settings decide, as on Azure
        options = replace(options or RuntimeOptions(), payloads=config.payloads,
                          disabled=DisabledFunctions.from_settings(index.functions), **config.runtime_overrides())
        if faults is not None:
            options = replace(options, faults=faults)
        clock = VirtualClock(start=start_time)
        keys = HostKeys.generate()
        host = DurableHost(index, store or MemoryStore(), clock, options=options,
                           settings=HostSettings(task_hub=config.task_hub))
        await host.start()
        server = await serve(host, AuthPolicy(keys if auth else None), route_prefix=config.route_prefix)
        session = aiohttp.ClientSession(base_url=server.base_url)
        env = cls(host, server, keys, clock, session)
        try:
            yield env
        finally:
            await session.close()
            await server.close()
            await host.stop()

    # ------------------------------------------------------------------ properties
    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def rpc_base_url(self) -> str:
        """The SDK client's RPC base URL (loopback listener, secret path), as the binding carries it."""
        return self.server.rpc_base_url

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"x-functions-key": self.keys.function}

    # ------------------------------------------------------------------ orchestrations
    async def start(self, name: str, input: Any = None, instance_id: str | None = None) -> str:
        """Start as the Python client's ``start_new`` does (input double-encoded, spec 3.5)."""
        input_text = compact(df_dumps(input)) if input is not None else None
        return await self.host.start_new(name, instance_id, input_text)

    async def wait(self, instance_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for a terminal status, skipping virtual time while nothing else can run."""
        return await self.host.wait(instance_id, timeout)

    async def wait_for_status(self, instance_id: str, *statuses: str, timeout: float = 30.0,
                              skip_time: bool = False) -> dict[str, Any]:
        """Wait for one of ``statuses`` (without skipping time unless asked)."""
        return await self.host.wait_until(instance_id, None, timeout, skip_time=skip_time, statuses=statuses)

    async def wait_for_custom_status(self, instance_id: str, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
        """Wait (without skipping time) until ``predicate(customStatus)`` holds; fails fast if the
        instance finishes first."""
        def settled(status: dict[str, Any]) -> bool:
            if predicate(status.get("customStatus")):
                return True
            if status["runtimeStatus"] in TERMINAL_STATUSES:
                raise AssertionError(f"instance finished first: {status}")
            return False

        return await self.host.wait_until(instance_id, settled, timeout, skip_time=False)

    async def settle(self, timeout: float = 30.0) -> None:
        await self.host.settle(timeout)

    async def raise_event(self, instance_id: str, name: str, data: Any = None) -> None:
        """Raise as the HTTP API does with a JSON body (the orchestrator sees the real value)."""
        await self.host.raise_event(instance_id, name, compact(data))

    async def status(self, instance_id: str, **flags: bool) -> dict[str, Any] | None:
        return await self.host.status(instance_id, **flags)

    async def history(self, instance_id: str) -> list[dict[str, Any]]:
        return await self.host.store.get_history(instance_id)

    def advance(self, delta: timedelta) -> None:
        self.host.advance(delta)

    def now(self) -> datetime:
        return self.clock.now()

    async def record_histories(self, directory: str | Path, names: set[str] | None = None,
                               statuses: frozenset[str] | None = TERMINAL_STATUSES) -> list[Path]:
        """Write orchestrations (finished ones by default; only ``names`` if given) as replay fixtures."""
        from .replayer import RecordedInstance
        from .store.base import InstanceQuery

        written: list[Path] = []
        rows, _ = await self.host.store.query_instances(InstanceQuery(statuses=statuses))
        for record in rows:
            if names is not None and record.name not in names:
                continue
            history = await self.host.store.get_history(record.instance_id)
            recorded = RecordedInstance(
                instance_id=record.instance_id, name=record.name, execution_id=record.execution_id,
                input=record.input, status=record.status, output=record.output,
                parent_instance_id=record.parent.instance_id if record.parent else None, history=history)
            safe_id = "".join(c if c.isalnum() or c in "-_" else "_" for c in record.instance_id)
            path = Path(directory) / record.name / f"{safe_id}.json"
            recorded.dump(path)
            written.append(path)
        return written

    # ------------------------------------------------------------------ entities
    async def signal_entity(self, name: str, key: str, operation: str, input: Any = None) -> None:
        input_text = compact(json.dumps(input)) if input is not None else None
        await self.host.signal_entity(name, key, operation, input_text)

    async def read_entity(self, name: str, key: str) -> Any:
        record = await self.host.read_entity(name, key)
        return json.loads(record.state) if record and record.state else None

    # ------------------------------------------------------------------ HTTP
    def request(self, method: str, path: str, *, key: str | None = "function", **kwargs: Any):
        """``env.request("POST", "/api/jobs", json=...)`` with the function key; ``key`` may be
        ``"system"``, ``"master"``, any other literal key, or None for no key."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if key is not None:
            named = {"function": self.keys.function, "system": self.keys.system, "master": self.keys.master}
            headers.setdefault("x-functions-key", named.get(key, key))
        return self.session.request(method, path, headers=headers, **kwargs)
