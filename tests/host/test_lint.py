"""The static determinism rules catch each forbidden call and nothing in clean code."""
from __future__ import annotations

from pathlib import Path

from devhost.app_index import load_app
from devhost.lint import check_app

LINT_APP = Path(__file__).resolve().parent / "lint_app"


def test_every_rule_fires_once_where_it_should():
    violations = check_app(load_app(LINT_APP))
    by_function: dict[str, list[str]] = {}
    for violation in violations:
        by_function.setdefault(violation.function, []).append(violation.message)
    assert "clean" not in by_function
    text = {name: " | ".join(messages) for name, messages in by_function.items()}
    for needle in ("datetime.now()", "time.sleep()", "time.time()"):
        assert needle in text["clock_reader"]
    for needle in ("random.randint()", "uuid.uuid4()"):
        assert needle in text["random_and_ids"]
    for needle in ("os.environ[...]", "os.getenv()", "open()", "requests.get()"):
        assert needle in text["settings_and_io"]
    assert "not 'async def'" in text["async_orchestrator"]
    assert all(v.line > 0 and v.path.endswith("function_app.py") for v in violations)
