"""Replay every recorded history against the current orchestrator code (issue 6 item 5).

The fixtures in ``histories/`` were recorded from the pattern tests by
``scripts/record_histories.py``. A change that would break instances already in flight on Azure
(an activity renamed, a call added before an existing one, a timer removed) fails here.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from devhost.app_index import load_app
from devhost.lint import check_app
from devhost.replayer import RecordedInstance, replay

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted((Path(__file__).parent / "histories").rglob("*.json"))


def test_every_orchestrator_has_recorded_histories():
    index = load_app(ROOT)
    recorded = {path.parent.name for path in FIXTURES}
    missing = [name for name in index.names("orchestrator") if name not in recorded]
    assert not missing, f"no replay fixtures for {missing}: run python scripts/record_histories.py"


@pytest.mark.parametrize("path", FIXTURES, ids=[f"{p.parent.name}/{p.stem}" for p in FIXTURES])
def test_recorded_history_replays_against_current_code(path: Path):
    report = replay(load_app(ROOT), RecordedInstance.load(path))
    assert report.ok, f"{path.relative_to(ROOT)}: {report.problem}"


def test_orchestrators_follow_the_determinism_rules():
    violations = check_app(load_app(ROOT))
    assert not violations, "\n".join(map(str, violations))
