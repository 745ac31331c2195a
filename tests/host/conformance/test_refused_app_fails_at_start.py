"""An app the Python worker refuses fails when the host starts, with the worker's message, in
all three ways of starting it: ``python -m devhost``, ``DurableTestHost`` and the pytest plugin's
``durable_host`` fixture. On Azure such an app loads no function at all (one refused function
fails the worker's whole indexing request: azure_functions_worker/loader.py
``process_indexed_function`` and azure_functions_runtime/loader.py, same name)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devhost.app_index import AppLoadError
from devhost.testing import DurableTestHost

from .corpus import APPS

ROOT = Path(__file__).resolve().parents[3]
REFUSED = "builtin_generic_annotation"
REASON = "cannot load the validate_order function: binding payload has invalid non-type annotation dict[str, "


@pytest.fixture
def refused_app(tmp_path: Path) -> Path:
    app_dir = tmp_path / "app"
    shutil.copytree(APPS / REFUSED, app_dir)
    return app_dir


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AzureWebJobsStorage", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def test_python_m_devhost_exits_at_start_naming_the_function_and_the_reason(refused_app: Path):
    result = _run(["-m", "devhost", "--app-dir", str(refused_app), "--store", "memory", "--port", "0"], ROOT)
    assert result.returncode == 2, result.stdout + result.stderr
    assert REASON in result.stdout + result.stderr
    assert "serving" not in result.stdout


async def test_durable_test_host_refuses_to_start(refused_app: Path):
    with pytest.raises(AppLoadError) as refused:
        async with DurableTestHost.start_time_skipping(refused_app):
            pytest.fail("the host started an app the worker refuses")
    assert REASON in str(refused.value)
    assert [refusal.function for refusal in refused.value.refusals] == ["validate_order"]


def test_pytest_plugin_fixture_errors_at_setup_not_at_first_call(refused_app: Path, tmp_path: Path):
    test_file = tmp_path / "test_uses_app.py"
    test_file.write_text("async def test_start(durable_host):\n"
                         "    await durable_host.start('anything')\n")
    result = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "devhost.pytest_plugin",
                   "-o", "asyncio_mode=auto", "--app-dir", str(refused_app), str(test_file)], tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "ERROR at setup of test_start" in output
    assert REASON in output
