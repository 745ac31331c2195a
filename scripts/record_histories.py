"""Record replay fixtures from the pattern tests: `python scripts/record_histories.py`.

Runs tests/patterns with `--record-histories` into a temporary folder, then keeps, per
orchestrator, the smallest history of each distinct shape (status + the activities, timers,
sub-orchestrations and entity calls it scheduled) under tests/determinism/histories/. Re-run it
after an intended change to an orchestrator and commit the new fixtures; never re-record to make
a replay failure go away without deciding that in-flight instances may break.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "tests" / "determinism" / "histories"
MAX_BYTES = 150_000
PER_ORCHESTRATOR = 6


def shape(recorded: dict) -> tuple:
    scheduled = tuple(sorted({(e["EventType"], e.get("Name") or "") for e in recorded["history"]
                              if e["EventType"] in (4, 7, 10, 14)}))
    return recorded["status"], scheduled


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run([sys.executable, "-m", "pytest", "tests/patterns", "-q", "-p", "no:cacheprovider",
                                 f"--record-histories={scratch}"], cwd=ROOT)
        if result.returncode != 0:
            print("record_histories: the pattern tests failed; nothing recorded", file=sys.stderr)
            return result.returncode
        chosen: dict[str, dict[tuple, Path]] = {}
        for path in sorted(Path(scratch).rglob("*.json"), key=lambda p: p.stat().st_size):
            if path.stat().st_size > MAX_BYTES:
                continue
            recorded = json.loads(path.read_text())
            per_name = chosen.setdefault(recorded["name"], {})
            key = shape(recorded)
            if key not in per_name and len(per_name) < PER_ORCHESTRATOR:
                per_name[key] = path
        if TARGET.exists():
            shutil.rmtree(TARGET)
        count = 0
        for name, paths in sorted(chosen.items()):
            for index, path in enumerate(paths.values()):
                destination = TARGET / name / f"{index:02d}-{path.stem[:60]}.json"
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, destination)
                count += 1
        print(f"record_histories: kept {count} histories of {len(chosen)} orchestrators in {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
