"""``host.json`` settings the host honours, and the platform's app-setting overrides of them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from devhost.config import load_config


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
