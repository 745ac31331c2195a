"""Keys: a run with a throw-away master key (tests, CI) never rewrites the developer's keys."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devhost.server.keys import KEYS_FILE_ENV, MASTER_KEY_ENV, HostKeys

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from azurite import free_port  # noqa: E402


def _snapshot(path: Path) -> tuple[bytes, int] | None:
    return (path.read_bytes(), path.stat().st_mtime_ns) if path.is_file() else None


def test_env_master_key_is_used_and_nothing_is_written(tmp_path, monkeypatch):
    path = tmp_path / "keys.json"
    stored = {"master": "mine", "function": "my-function", "system": "my-system"}
    path.write_text(json.dumps(stored))
    before = _snapshot(path)
    monkeypatch.setenv(MASTER_KEY_ENV, "throw-away")

    keys, generated = HostKeys.load(path)

    assert (keys.master, keys.function, keys.system, generated) == ("throw-away", "my-function", "my-system", False)
    assert _snapshot(path) == before
    assert not HostKeys.load(tmp_path / "absent.json")[1] and not (tmp_path / "absent.json").exists()


def test_generated_keys_are_kept_and_the_file_is_not_rewritten(tmp_path, monkeypatch):
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)
    path = tmp_path / "nested" / "keys.json"
    first, generated = HostKeys.load(path)
    assert generated and json.loads(path.read_text())["master"] == first.master
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    before = _snapshot(path)
    again, generated = HostKeys.load(path)
    assert (again, generated) == (first, False) and _snapshot(path) == before


@pytest.mark.parametrize("keys_file_env", [False, True], ids=["DEVHOST_MASTER_KEY", "DEVHOST_KEYS_FILE"])
def test_a_served_host_leaves_the_repository_keys_untouched(tmp_path, keys_file_env):
    """The repository app served as tests/e2e serves it: its .devhost/keys.json stays as it was."""
    repo_keys = ROOT / ".devhost" / "keys.json"
    before = _snapshot(repo_keys)
    env = {k: v for k, v in os.environ.items() if k not in (KEYS_FILE_ENV, MASTER_KEY_ENV)}
    if keys_file_env:
        env[KEYS_FILE_ENV] = str(tmp_path / "keys.json")
    else:
        env[MASTER_KEY_ENV] = "keys-test-master"
    port = free_port()
    host = subprocess.Popen([sys.executable, "-m", "devhost", "--port", str(port), "--store", "memory"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        master = "keys-test-master" if not keys_file_env else None
        deadline = time.monotonic() + 60
        while master is None and not (tmp_path / "keys.json").is_file():
            assert host.poll() is None and time.monotonic() < deadline, host.stdout.read()
            time.sleep(0.05)
        master = master or json.loads((tmp_path / "keys.json").read_text())["master"]
        url = f"http://127.0.0.1:{port}/runtime/webhooks/durabletask/instances?code={master}"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    assert response.status == 200
                break
            except (urllib.error.URLError, ConnectionError):
                assert host.poll() is None and time.monotonic() < deadline, host.stdout.read()
                time.sleep(0.1)
    finally:
        host.terminate()
        host.wait(timeout=15)
    assert _snapshot(repo_keys) == before
