"""``host.json`` settings the host honours, and the platform's app-setting overrides of them."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from devhost.config import load_config
from devhost.runtime_options import RuntimeOptions


def _app(tmp_path: Path, durable: dict) -> Path:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"durableTask": durable}}))
    return tmp_path


def test_max_concurrent_activity_functions_comes_from_host_json(tmp_path):
    assert load_config(_app(tmp_path, {"maxConcurrentActivityFunctions": 12})).max_concurrent_activities == 12
    assert load_config(_app(tmp_path, {})).max_concurrent_activities is None


def test_azurefunctionsjobhost_app_settings_override_host_json(tmp_path, monkeypatch: pytest.MonkeyPatch):
    app = _app(tmp_path, {"hubName": "FromFile", "maxConcurrentActivityFunctions": 12})
    monkeypatch.setenv("AzureFunctionsJobHost__extensions__durableTask__maxConcurrentActivityFunctions", "3")
    monkeypatch.setenv("AzureFunctionsJobHost__Extensions__DurableTask__HubName", "FromSetting")
    monkeypatch.setenv("AzureFunctionsJobHost__extensions__http__routePrefix", "")
    config = load_config(app)
    assert (config.max_concurrent_activities, config.task_hub, config.route_prefix) == (3, "FromSetting", "")
    assert config.host_json["extensions"]["durableTask"]["hubName"] == "FromSetting"  # the file's key, updated


def test_concurrency_defaults_are_the_platforms_and_host_json_overrides_them(tmp_path, monkeypatch):
    """Outside the Consumption plan the extension runs 10 x processors activities and orchestrator
    work items at once unless host.json says otherwise (AzureStorageDurabilityProviderFactory)."""
    options = RuntimeOptions()
    assert options.max_concurrent_activities == options.max_concurrent_orchestrations == 10 * (os.cpu_count() or 1)
    config = load_config(_app(tmp_path, {"maxConcurrentActivityFunctions": 7, "maxConcurrentOrchestratorFunctions": 3}))
    assert config.runtime_overrides() == {"max_concurrent_activities": 7, "max_concurrent_orchestrations": 3}
    assert load_config(_app(tmp_path, {})).runtime_overrides() == {}
