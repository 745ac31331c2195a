"""Record the official worker library's verdict on every corpus app into ``expected.json``.

    .venv-3.13/bin/python -m tests.host.conformance.record

Needs ``azure-functions-runtime`` (Python 3.13+; ``scripts/bootstrap.sh`` builds ``.venv-3.13``).
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from devhost.worker_index import official_library_available

from .corpus import EXPECTED, RECORDED_KEYS, case_names, verdict


def main() -> int:
    if not official_library_available():
        print("record: azure-functions-runtime is not importable here; run this with .venv-3.13/bin/python")
        return 2
    with tempfile.TemporaryDirectory() as workdir:
        verdicts = {case: verdict(case, "official", Path(workdir)) for case in case_names()}
    record = {case: {key: found[key] for key in RECORDED_KEYS} for case, found in verdicts.items()}
    EXPECTED.write_text(json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"record: {len(record)} verdicts written to {EXPECTED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
