"""Static determinism rules for orchestrator functions (issue 6 item 5).

Orchestrators are replayed from history, so they must not read the clock, generate random
values or ids, read settings, do I/O or sleep; they must be plain generator functions. The
context has replay-safe helpers for all of these (``current_utc_datetime``, ``new_uuid``,
activities for I/O, durable timers for waiting).

    python -m devhost.lint [APP_DIR]    # exit code 1 on violations
"""
from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .app_index import AppIndex, load_app

# dotted call prefix -> what to use instead
FORBIDDEN_CALLS = {
    "datetime.now": "context.current_utc_datetime",
    "datetime.utcnow": "context.current_utc_datetime",
    "datetime.datetime.now": "context.current_utc_datetime",
    "datetime.datetime.utcnow": "context.current_utc_datetime",
    "date.today": "context.current_utc_datetime.date()",
    "time.time": "context.current_utc_datetime",
    "time.monotonic": "context.current_utc_datetime",
    "time.perf_counter": "context.current_utc_datetime",
    "time.sleep": "yield context.create_timer(...)",
    "asyncio.sleep": "yield context.create_timer(...)",
    "uuid.uuid1": "context.new_uuid()",
    "uuid.uuid4": "context.new_uuid()",
    "uuid1": "context.new_uuid()",
    "uuid4": "context.new_uuid()",
    "random.": "an activity (or derive values from the input)",
    "secrets.": "an activity",
    "os.environ": "read settings in the HTTP starter or an activity and pass them as input",
    "os.getenv": "read settings in the HTTP starter or an activity and pass them as input",
    "open": "an activity",
    "requests.": "an activity (or context.call_http)",
    "aiohttp.": "an activity (or context.call_http)",
    "urllib.request.": "an activity (or context.call_http)",
    "httpx.": "an activity (or context.call_http)",
    "socket.": "an activity",
    "subprocess.": "an activity",
}
FORBIDDEN_ATTRIBUTES = {"os.environ": FORBIDDEN_CALLS["os.environ"]}


@dataclass(frozen=True)
class Violation:
    function: str
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.function}: {self.message}"


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _match(name: str) -> str | None:
    for prefix, advice in FORBIDDEN_CALLS.items():
        if prefix.endswith("."):
            if name.startswith(prefix) or name == prefix[:-1]:
                return advice
        elif name == prefix or name.endswith("." + prefix):
            return advice
    return None


def check_function(fn, label: str) -> list[Violation]:
    source_lines, first_line = inspect.getsourcelines(fn)
    path = inspect.getsourcefile(fn) or "?"
    tree = ast.parse(textwrap.dedent("".join(source_lines)))
    found: list[Violation] = []

    def add(node: ast.AST, message: str) -> None:
        found.append(Violation(label, path, first_line + getattr(node, "lineno", 1) - 1, message))

    definition = tree.body[0]
    if isinstance(definition, ast.AsyncFunctionDef):
        add(definition, "orchestrators must be generator functions, not 'async def'")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            advice = _match(name) if name else None
            if advice:
                add(node, f"calls {name}(): not replay-safe; use {advice}")
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(getattr(node, "ctx", None), ast.Del):
            target = node.value if isinstance(node, ast.Subscript) else node
            name = _dotted(target)
            if name in FORBIDDEN_ATTRIBUTES and isinstance(node, ast.Subscript):
                add(node, f"reads {name}[...]: {FORBIDDEN_ATTRIBUTES[name]}")
        elif isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
            add(node, "uses await: orchestrators yield durable tasks instead")
    return found


def check_app(index: AppIndex) -> list[Violation]:
    violations: list[Violation] = []
    for info in index.of_kind("orchestrator"):
        user_fn = getattr(info.fn, "orchestrator_function", info.fn)
        violations.extend(check_function(user_fn, info.durable_name))
    return violations


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    app_dir = Path(args[0]) if args else Path(".")
    violations = check_app(load_app(app_dir))
    for violation in violations:
        print(violation)
    print(f"{len(violations)} determinism violation(s) in orchestrators of {app_dir.resolve()}")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
