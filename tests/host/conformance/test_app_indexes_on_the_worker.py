"""This repository's ``function_app.py`` indexes on the Python worker: every function, no refusal
(issue 11: 15 activities with ``payload: dict[str, Any]`` made Azure load no function at all).

Run by hand: ``python -m devhost.worker_check .`` (``.venv-3.13/bin/python -m devhost.worker_check
--require-official .`` for the official azure-functions-runtime library)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from devhost.worker_index import OFFICIAL_LIBRARY, official_library_available

ROOT = Path(__file__).resolve().parents[3]


def test_every_function_of_the_app_indexes():
    args = [sys.executable, "-m", "devhost.worker_check", str(ROOT)]
    if official_library_available():
        args.append("--require-official")
    result = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = re.search(r"^(\d+) of (\d+) functions index \(checked by (.+), Python", result.stdout, re.MULTILINE)
    assert summary, result.stdout
    indexed, total, checked_by = int(summary[1]), int(summary[2]), summary[3]
    listed = re.findall(r"^  ok +\S+$", result.stdout, re.MULTILINE)
    assert indexed == total == len(listed) > 0
    assert checked_by.startswith(OFFICIAL_LIBRARY if official_library_available() else "devhost.worker_rules")
