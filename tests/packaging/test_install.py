"""``pip install`` of this repository into a fresh venv gives the ``devhost`` command and the pytest
plugin, which serve and test an app in another directory (README "Use it in your own app").

Real installs from PyPI (wheels come from pip's cache when bootstrap has filled it): about 30 s.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_APP = Path(__file__).resolve().parent / "example_app"
sys.path.insert(0, str(ROOT / "tools"))
from azurite import free_port  # noqa: E402

# What the build reads: the package and its metadata (copied, so the build writes nothing here).
PACKAGE_FILES = ["pyproject.toml", "README.md", "LICENSE", "devhost"]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("devhost-install")
    source = base / "source"
    source.mkdir()
    for name in PACKAGE_FILES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True)
    pip = [str(base / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-compile"]
    install = subprocess.run([*pip, str(source)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    return base / "venv"


def _clean_env(**extra: str) -> dict[str, str]:
    """No trace of this repository: the app directory must work on the installed package alone."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AzureWebJobsStorage", "VIRTUAL_ENV")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXAMPLE_APP, tmp_path / "my-app"))


def test_only_the_host_is_installed(venv):
    record = next((venv / "lib").glob("python3*/site-packages/durable_functions_devhost-*.dist-info/RECORD"))
    installed = {line.split(",")[0].split("/")[0] for line in record.read_text().splitlines()}
    # the package and the console script (../../../bin/devhost): none of the app's modules
    assert {name for name in installed if not name.endswith(".dist-info")} == {"devhost", ".."}, installed
    usage = subprocess.run([str(venv / "bin" / "devhost"), "--help"], capture_output=True, text=True, check=True)
    assert usage.stdout.startswith("usage: devhost")


def test_the_devhost_command_serves_an_app_in_another_directory(venv, app_dir, tmp_path):
    port = free_port()
    log = tmp_path / "devhost.log"
    with open(log, "w") as out:
        host = subprocess.Popen([str(venv / "bin" / "devhost"), "--port", str(port)], cwd=app_dir,
                                env=_clean_env(), stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (key := re.search(r"^export KEY=(\S+)$", log.read_text(), re.M)):
            assert host.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/greetings/Grace", method="POST",
                                         headers={"x-functions-key": key.group(1)})
        with urllib.request.urlopen(request, timeout=10) as response:
            status_url = json.loads(response.read())["statusQueryGetUri"]
        while (status := json.loads(urllib.request.urlopen(status_url, timeout=10).read()))["runtimeStatus"] \
                != "Completed":
            assert time.monotonic() < deadline and status["runtimeStatus"] in ("Pending", "Running"), status
            time.sleep(0.1)
        assert status["output"] == ["Hello Grace!", "Hello Grace again!"]
        for page in ("", "app.js", "style.css"):  # the dashboard's static files are in the package
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_devhost/{page}", timeout=10) as response:
                assert response.status == 200 and response.read()
    finally:
        host.terminate()
        assert host.wait(timeout=15) == 0, log.read_text()


@pytest.mark.parametrize("extra", [[], ["-p", "devhost.pytest_plugin"]], ids=["entry point", "entry point and -p"])
def test_the_pytest_plugin_tests_an_app_in_another_directory(venv, app_dir, extra):
    run = subprocess.run([str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
                         cwd=app_dir, env=_clean_env(), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "1 passed" in run.stdout, run.stdout + run.stderr
