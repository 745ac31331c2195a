""".vscode/ and .devcontainer/: valid JSON that names scripts, modules and tasks that exist, and a
devhost task whose background matcher fits what the host really prints."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import azurite as azurite_tool  # tools/, on sys.path from tests/conftest.py
import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = [".vscode/tasks.json", ".vscode/launch.json", ".vscode/extensions.json", ".vscode/settings.json",
         ".devcontainer/devcontainer.json"]


def load(name: str) -> dict:
    return json.loads((ROOT / name).read_text())


def tasks() -> dict[str, dict]:
    return {task["label"]: task for task in load(".vscode/tasks.json")["tasks"]}


def local(value: str) -> str:
    return value.replace("${workspaceFolder}", str(ROOT))


def command_line(task: dict) -> list[str]:
    return [local(task["command"]), *map(local, task.get("args", []))]


@pytest.mark.parametrize("name", FILES)
def test_parses(name):
    assert load(name)


@pytest.mark.parametrize("label", list(tasks()))
def test_each_task_names_what_exists(label):
    task = tasks()[label]
    for dependency in [task.get("dependsOn")] if isinstance(task.get("dependsOn"), str) else task.get("dependsOn", []):
        assert dependency in tasks(), dependency
    if task["type"] != "shell":
        return
    words = command_line(task)
    program = Path(words[0]) if words[0].startswith(str(ROOT)) else ROOT / words[0]
    assert program.relative_to(ROOT).parts[0] == ".venv" or os.access(program, os.X_OK), program
    for word in words[1:]:
        if word.endswith((".py", ".sh")):
            assert (ROOT / word).is_file(), word
    if "-m" in words:
        assert importlib.util.find_spec(words[words.index("-m") + 1]), words


def test_launch_configurations_name_what_exists():
    for configuration in load(".vscode/launch.json")["configurations"]:
        assert configuration.get("preLaunchTask") in (None, *tasks()), configuration["name"]
        if "module" in configuration:
            assert importlib.util.find_spec(configuration["module"]), configuration["name"]


def test_devcontainer_bootstraps_forwards_ports_and_recommends_the_same_extensions():
    container = load(".devcontainer/devcontainer.json")
    assert os.access(ROOT / container["postCreateCommand"].split()[0], os.X_OK)
    assert {7071, 10000, 10001, 10002} <= set(container["forwardPorts"])
    assert "3.11" in container["image"]  # what infra/ deploys
    assert container["customizations"]["vscode"]["extensions"] == load(".vscode/extensions.json")["recommendations"]


def test_the_devhost_task_ends_its_background_matcher_and_matches_a_busy_port(tmp_path):
    task = tasks()["devhost: serve"]
    matcher = task["problemMatcher"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        refused = subprocess.run([*command_line(task), "--port", port, "--store", "memory"], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=60)
    assert any(re.search(matcher["pattern"]["regexp"], line) for line in (refused.stdout + refused.stderr).splitlines())

    port = str(azurite_tool.free_port())
    log = tmp_path / "task.log"
    with open(log, "w") as out:
        host = subprocess.Popen([*command_line(task), "--port", port, "--store", "memory"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not re.search(matcher["background"]["endsPattern"], log.read_text(), re.M):
            assert host.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        host.terminate()
        host.wait(timeout=15)
