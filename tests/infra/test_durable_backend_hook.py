"""scripts/durable_backend.py: the azd prepackage/postpackage switch of the packaged host.json."""
from __future__ import annotations

import importlib.util
import sys
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("durable_backend", ROOT / "scripts" / "durable_backend.py")
hook = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = hook  # dataclasses look the module up
spec.loader.exec_module(hook)


@pytest.fixture
def host(tmp_path, monkeypatch):
    copy = tmp_path / "host.json"
    shutil.copyfile(ROOT / "host.json", copy)
    monkeypatch.setattr(hook, "HOST_JSON", copy)
    monkeypatch.setattr(hook, "BACKUP", tmp_path / ".azure" / "durable_backend" / "host.json.orig")
    return copy


def test_scheduler_host_json_shape():
    original = json.loads((ROOT / "host.json").read_text())
    switched = hook.to_scheduler_host_json(original)
    durable = switched["extensions"]["durableTask"]
    assert durable["storageProvider"] == {"type": "azureManaged",
                                          "connectionStringName": "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"}
    assert durable["hubName"] == "%TASK_HUB_NAME%"
    assert switched["extensionBundle"] == original["extensionBundle"]
    assert "type" not in original["extensions"]["durableTask"]["storageProvider"], "input must not be mutated"


def test_apply_then_restore_round_trips(host):
    before = host.read_text()
    hook.apply(hook.SCHEDULER)
    assert json.loads(host.read_text())["extensions"]["durableTask"]["storageProvider"]["type"] == "azureManaged"
    assert hook.restore()
    assert host.read_text() == before
    assert not hook.restore()


def test_azure_storage_leaves_host_json_alone(host):
    before = host.read_text()
    hook.apply(hook.AZURE_STORAGE)
    assert host.read_text() == before and not hook.BACKUP.exists()


def test_interrupted_run_is_repaired(host):
    before = host.read_text()
    hook.apply(hook.SCHEDULER)
    hook.apply(hook.AZURE_STORAGE)  # postpackage never ran; next package is Azure Storage
    assert host.read_text() == before


def test_backend_from_env_validates():
    assert hook.backend_from_env({}) == hook.AZURE_STORAGE
    assert hook.backend_from_env({"DURABLE_BACKEND": "DurableTaskScheduler"}) == hook.SCHEDULER
    with pytest.raises(SystemExit):
        hook.backend_from_env({"DURABLE_BACKEND": "Netherite"})
