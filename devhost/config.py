"""Host configuration: ``host.json``, ``local.settings.json`` and the environment.

As ``func start`` does, the ``Values`` of ``local.settings.json`` become environment variables
(without overriding variables that are already set), and ``%NAME%`` in ``host.json`` is
resolved from them. App settings named ``AzureFunctionsJobHost__<path>`` override the
host.json value at that path (``__`` separates the levels), as on the platform.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .payloads import PayloadPolicy, policy_for

DEFAULT_TASK_HUB = "TestHubName"
_OVERRIDE_PREFIX = "AzureFunctionsJobHost__"
_SETTING = re.compile(r"%([^%]+)%")


@dataclass
class HostConfig:
    app_dir: Path
    task_hub: str
    route_prefix: str
    storage_connection: str | None
    host_json: dict
    payloads: PayloadPolicy = field(default_factory=PayloadPolicy)  # the emulated backend's payload limits
    # extensions.durableTask.maxConcurrentActivityFunctions / maxConcurrentOrchestratorFunctions
    # (None: the platform's default, runtime_options.platform_concurrency)
    max_concurrent_activities: int | None = None
    max_concurrent_orchestrations: int | None = None
    max_entity_operation_batch_size: int | None = None  # extensions.durableTask.maxEntityOperationBatchSize

    def runtime_overrides(self) -> dict[str, int]:
        """The ``RuntimeOptions`` fields that host.json (or an app setting) sets."""
        values = {"max_concurrent_activities": self.max_concurrent_activities,
                  "max_concurrent_orchestrations": self.max_concurrent_orchestrations,
                  "max_entity_operation_batch_size": self.max_entity_operation_batch_size}
        return {name: value for name, value in values.items() if value}


def _resolve(value: str) -> str:
    return _SETTING.sub(lambda m: os.environ.get(m.group(1), ""), value)


def apply_local_settings(app_dir: Path) -> dict[str, str]:
    path = app_dir / "local.settings.json"
    if not path.is_file():
        return {}
    values = json.loads(path.read_text()).get("Values") or {}
    for name, value in values.items():
        os.environ.setdefault(name, str(value))
    return values


def _apply_overrides(host_json: dict) -> None:
    """``AzureFunctionsJobHost__a__b=v`` sets ``host_json["a"]["b"] = v`` (keys matched ignoring case)."""
    for name, value in os.environ.items():
        if not name.lower().startswith(_OVERRIDE_PREFIX.lower()):
            continue
        *parents, leaf = name[len(_OVERRIDE_PREFIX):].split("__")
        node = host_json
        for key in parents:
            found = next((k for k in node if k.lower() == key.lower()), key)
            if not isinstance(node.get(found), dict):
                node[found] = {}
            node = node[found]
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = value
        node[next((k for k in node if k.lower() == leaf.lower()), leaf)] = parsed


def load_config(app_dir: str | Path = ".") -> HostConfig:
    app_path = Path(app_dir).resolve()
    apply_local_settings(app_path)
    host_json_path = app_path / "host.json"
    host_json = json.loads(host_json_path.read_text()) if host_json_path.is_file() else {}
    _apply_overrides(host_json)
    durable = (host_json.get("extensions") or {}).get("durableTask") or {}
    task_hub = _resolve(str(durable.get("hubName") or "")) or DEFAULT_TASK_HUB
    http = (host_json.get("extensions") or {}).get("http") or {}
    route_prefix = str(http.get("routePrefix", "api"))
    activities = durable.get("maxConcurrentActivityFunctions")
    orchestrations = durable.get("maxConcurrentOrchestratorFunctions")
    batch_size = durable.get("maxEntityOperationBatchSize")
    return HostConfig(app_dir=app_path, task_hub=task_hub, route_prefix=route_prefix,
                      storage_connection=os.environ.get("AzureWebJobsStorage"), host_json=host_json,
                      payloads=policy_for(host_json),
                      max_concurrent_activities=int(activities) if activities else None,
                      max_concurrent_orchestrations=int(orchestrations) if orchestrations else None,
                      max_entity_operation_batch_size=int(batch_size) if batch_size else None)
