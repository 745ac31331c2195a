"""Host configuration: ``host.json``, ``local.settings.json`` and the environment.

As ``func start`` does, the ``Values`` of ``local.settings.json`` become environment variables
(without overriding variables that are already set), and ``%NAME%`` in ``host.json`` is
resolved from them.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .payloads import PayloadPolicy, policy_for

DEFAULT_TASK_HUB = "TestHubName"
_SETTING = re.compile(r"%([^%]+)%")


@dataclass
class HostConfig:
    app_dir: Path
    task_hub: str
    route_prefix: str
    storage_connection: str | None
    host_json: dict
    payloads: PayloadPolicy = field(default_factory=PayloadPolicy)  # the emulated backend's payload limits


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


def load_config(app_dir: str | Path = ".") -> HostConfig:
    app_path = Path(app_dir).resolve()
    apply_local_settings(app_path)
    host_json_path = app_path / "host.json"
    host_json = json.loads(host_json_path.read_text()) if host_json_path.is_file() else {}
    durable = (host_json.get("extensions") or {}).get("durableTask") or {}
    task_hub = _resolve(str(durable.get("hubName") or "")) or DEFAULT_TASK_HUB
    http = (host_json.get("extensions") or {}).get("http") or {}
    route_prefix = str(http.get("routePrefix", "api"))
    return HostConfig(app_dir=app_path, task_hub=task_hub, route_prefix=route_prefix,
                      storage_connection=os.environ.get("AzureWebJobsStorage"), host_json=host_json,
                      payloads=policy_for(host_json))
