"""The infra/ files the contract tests read: main.bicep, its modules and the app's, loaded once,
and a YAML reader for azure.yaml."""
from __future__ import annotations

from pathlib import Path

from bicep_text import BicepFile

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = BicepFile.load(INFRA / "main.bicep")
MODULE_FILES = {sym: BicepFile.load(INFRA / m.path) for sym, m in MAIN.modules.items()}
ALL_BICEP = [MAIN] + sorted(
    (BicepFile.load(p) for p in (INFRA / "app").glob("*.bicep")), key=lambda b: b.path.name
)
API = MODULE_FILES["api"]
RBAC = MODULE_FILES["rbac"]


def load_yaml(path: Path) -> dict:
    try:
        import yaml  # PyYAML, if present
        return yaml.safe_load(path.read_text())
    except ImportError:
        return mini_yaml(path.read_text())


def mini_yaml(text: str) -> dict:
    """Nested mappings of scalars: all azure.yaml uses."""
    root: dict = {}
    stack = [(-1, root)]
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        key, _, value = line.strip().partition(":")
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        if value.strip():
            parent[key] = value.strip().strip("'\"")
        else:
            parent[key] = {}
            stack.append((indent, parent[key]))
    return root
