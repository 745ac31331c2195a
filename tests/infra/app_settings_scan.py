"""Discover the settings the app reads, from its source, so the infra contract follows the code.

Reads are found with the AST, not by grepping:
  os.environ["X"], os.environ.get("X"), os.getenv("X"), "X" in os.environ,
  environ[...] / getenv(...) after `from os import environ, getenv`,
  helper("X") where helper is a function that passes its parameter to one of the above,
  and module-level constants used as the name (NAME = "X"; os.getenv(NAME)).
Binding connections (`connection="X"` keyword in decorator calls) are reported separately:
the host resolves them as X or X__serviceUri-style settings.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

# Not application code, or local-only: tests, tooling, the local dev host, the venvs (.venv, .venv-3.13, ...).
EXCLUDED_DIRS = {
    ".git", ".venv", "venv", "__pycache__", ".pytest_cache", "node_modules", ".python_packages",
    ".azure", ".ci", "tests", "scripts", "infra", "docs", "devhost", ".devhost", "bench",
}


@dataclass
class Scan:
    reads: dict[str, set[str]] = field(default_factory=dict)  # setting -> files
    connections: dict[str, set[str]] = field(default_factory=dict)
    dynamic: list[str] = field(default_factory=list)  # reads whose name is not a constant

    def add(self, bucket: dict, name: str, where: str) -> None:
        bucket.setdefault(name, set()).add(where)


def app_python_files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*.py")
        if not any(part in EXCLUDED_DIRS or part.startswith(".venv") for part in p.relative_to(root).parts[:-1])
    )


def _env_read_arg(node: ast.AST, environ_names: set[str], getenv_names: set[str]) -> ast.AST | None:
    """The name argument if `node` reads the environment, else None."""
    def is_environ(n: ast.AST) -> bool:
        if isinstance(n, ast.Attribute) and n.attr == "environ" and isinstance(n.value, ast.Name):
            return n.value.id == "os"
        return isinstance(n, ast.Name) and n.id in environ_names

    if isinstance(node, ast.Call) and node.args:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("get", "setdefault", "pop") and is_environ(func.value):
            return node.args[0]
        if isinstance(func, ast.Attribute) and func.attr == "getenv" and isinstance(func.value, ast.Name) \
                and func.value.id == "os":
            return node.args[0]
        if isinstance(func, ast.Name) and func.id in getenv_names:
            return node.args[0]
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and is_environ(node.value):
        return node.slice
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)) \
            and is_environ(node.comparators[0]):
        return node.left
    return None


def _imports(tree: ast.Module) -> tuple[set[str], set[str]]:
    environ_names, getenv_names = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name == "environ":
                    environ_names.add(alias.asname or "environ")
                if alias.name == "getenv":
                    getenv_names.add(alias.asname or "getenv")
    return environ_names, getenv_names


def _constants(tree: ast.Module) -> dict[str, str]:
    result = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    result[target.id] = node.value.value
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            result[node.target.id] = node.value.value
    return result


def _resolve(arg: ast.AST, constants: dict[str, str]) -> str | None:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.Name):
        return constants.get(arg.id)
    return None


def _helpers(tree: ast.Module, environ_names: set[str], getenv_names: set[str]) -> set[str]:
    """Functions that read the environment with one of their own parameters as the name."""
    names = set()
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = {a.arg for a in fn.args.args + fn.args.kwonlyargs + fn.args.posonlyargs}
        for node in ast.walk(fn):
            arg = _env_read_arg(node, environ_names, getenv_names)
            if isinstance(arg, ast.Name) and arg.id in params:
                names.add(fn.name)
    return names


def scan(root: Path) -> Scan:
    result = Scan()
    parsed = []
    helpers: set[str] = set()
    for path in app_python_files(root):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        environ_names, getenv_names = _imports(tree)
        helpers |= _helpers(tree, environ_names, getenv_names)
        parsed.append((path, tree, environ_names, getenv_names))

    for path, tree, environ_names, getenv_names in parsed:
        where = str(path.relative_to(root))
        constants = _constants(tree)
        helper_bodies = {
            id(n) for fn in ast.walk(tree)
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name in helpers
            for n in ast.walk(fn)
        }
        for node in ast.walk(tree):
            arg = _env_read_arg(node, environ_names, getenv_names)
            if arg is None and isinstance(node, ast.Call) and node.args:
                func = node.func
                called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
                if called in helpers:
                    arg = node.args[0]
            if arg is not None:
                name = _resolve(arg, constants)
                if name is not None:
                    result.add(result.reads, name, where)
                elif id(node) not in helper_bodies:
                    result.dynamic.append(f"{where}:{node.lineno}")
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "connection":
                        name = _resolve(kw.value, constants)
                        if name:
                            result.add(result.connections, name, where)
    return result


def host_json_settings(host_json: Path) -> set[str]:
    """%NAME% references and *Name settings (connectionStringName etc.) in host.json."""
    text = host_json.read_text(encoding="utf-8")
    names = set(re.findall(r"%([A-Za-z_][A-Za-z0-9_]*)%", text))

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("connectionStringName", "connectionName") and isinstance(value, str):
                    names.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(text))
    return names
