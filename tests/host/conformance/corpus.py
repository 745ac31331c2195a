"""The conformance corpus: small apps under ``apps/``, each valid or refused by the Python worker.

``expected.json`` holds the official worker library's verdict on every app, recorded with
``python -m tests.host.conformance.record`` on Python 3.13 (``.venv-3.13``), and re-checked by
every 3.13 test run so it cannot go stale. A verdict is compared by: loads or not, the first
refused function (the worker stops there), and the rule, found from the message by ``RULES``,
whose patterns match both the 4.x worker's wording and azure-functions-runtime's.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from devhost.app_index import AppLoadError, load_app
from devhost.worker_index import Indexer

HERE = Path(__file__).parent
APPS = HERE / "apps"
EXPECTED = HERE / "expected.json"
RECORDED_KEYS = ("loads", "function", "rule", "message")

# rule -> the message pattern (functions.py FunctionLoadError texts, loader.py, the SDK's get_functions)
RULES: dict[str, str] = {
    "non-type-annotation": r"binding \w+ has invalid non-type annotation ",
    "parameter-not-bound": r"parameters are declared in Python but not in the function definition",
    "binding-without-parameter": r"(declared in the function definition .* but not in Python"
                                 r"|declared as bindings but are not present in Python)",
    "context-type": r'the "context" parameter is expected to be of type azure\.functions\.Context',
    "annotation-mismatch": r"(binding type \"'?\w+'?\" and dataType|type of \w+ binding in .* does not match)",
    "out-annotation-on-input": r'is declared to have the "in" direction .* is azure\.functions\.Out',
    "output-without-out": r'is declared to have the "out" direction, but its annotation in Python is not',
    "return-mismatch": r'Python return annotation "\w+" does not match binding type',
    "non-type-return": r"has invalid non-type return annotation",
    "return-out": r"return annotation should not be azure\.functions\.Out",
    "unresolvable-annotation": r"NameError: name '\w+' is not defined",
    "duplicate-function-name": r"Function \w+ does not have a unique function name",
    "no-function-app": r"Could not find top level function app instances",
    "several-function-apps": r"More than one \w+ or other top level function app instances are defined",
}


def case_names() -> list[str]:
    return sorted(path.name for path in APPS.iterdir() if (path / "function_app.py").is_file())


def expected() -> dict[str, dict[str, Any]]:
    return json.loads(EXPECTED.read_text())


def rule_of(message: str) -> str | None:
    found = [rule for rule, pattern in RULES.items() if re.search(pattern, message)]
    assert len(found) <= 1, f"ambiguous rules {found} for {message!r}"
    return found[0] if found else None


def verdict(case: str, indexer: Indexer, workdir: Path) -> dict[str, Any]:
    """Load a fresh copy of the case through the host's ``load_app`` with the given indexer.

    A copy per call: ``load_app`` caches apps that loaded, and each indexer must index anew."""
    app_dir = workdir / f"{case}-{indexer}"
    shutil.copytree(APPS / case, app_dir)
    try:
        load_app(app_dir, indexer=indexer)
    except AppLoadError as exc:
        first = exc.refusals[0] if exc.refusals else None
        message = first.message if first else str(exc.__cause__ or exc)
        return {"loads": False, "function": first.function if first else None, "rule": rule_of(message),
                "message": message, "host_message": str(exc)}
    return {"loads": True, "function": None, "rule": None, "message": None, "host_message": None}
