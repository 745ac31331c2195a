"""The benchmark command writes its results where asked, and by default to no tracked file."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--repeat", "1", "--chains", "2", "--fan-out", "2", "--no-azure", "--no-peer"]


def test_results_go_to_the_output_path_and_the_last_line_stays(tmp_path):
    output = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, "bench/run.py", *TINY, "--output", str(output)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True)
    assert run.stdout.splitlines()[-1].startswith("min_speedup_vs_durabletask: ")
    report = json.loads(output.read_text())
    assert report["host"]["memory+fast"] and output.with_suffix(".md").is_file()
    row = report["host"]["memory+fast"]["chain_sequential"]  # min and median of each side, every run kept
    assert row["min"]["total_s"] <= row["median"]["total_s"] and len(row["runs"]) == 1


def test_the_default_output_is_git_ignored_and_untracked():
    default = subprocess.run([sys.executable, "-c", "import sys; sys.argv = ['run.py']; sys.path.insert(0, 'bench');"
                              "import run; print(run.DEFAULT_OUTPUT.relative_to(run.ROOT))"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    for path in (default, str(Path(default).with_suffix(".md"))):
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, path
        assert subprocess.run(["git", "ls-files", "--error-unmatch", path], cwd=ROOT,
                              capture_output=True).returncode != 0, path
