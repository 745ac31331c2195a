#!/usr/bin/env bash
# Compile infra/main.bicep (and so every module) when a Bicep compiler is on this machine.
#
# No registry this project reaches (PyPI, npm, Debian) ships the Bicep compiler: the npm and
# PyPI wrappers (bicep-node, anthonycmartin-bicep-rpc-client) and `az bicep install` all download
# the binary from GitHub releases / downloads.bicep.azure.com at run time. So, in order:
#   1. `bicep build`            if bicep is on PATH
#   2. `az bicep build`         if az is on PATH and already has its bicep
#   3. pycep-parser (PyPI)      syntax-only parse, if installed: catches syntax errors, not type errors
#   4. otherwise SKIPPED, exit 0
set -euo pipefail
cd "$(dirname "$0")/.."
MAIN=infra/main.bicep
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] && PYTHON=.venv/bin/python

if command -v bicep >/dev/null 2>&1; then
  echo "validate_bicep: bicep $(bicep --version 2>/dev/null | head -1)"
  bicep build "$MAIN" --stdout >/dev/null
  echo "BICEP OK: $MAIN compiles"
  exit 0
fi

if command -v az >/dev/null 2>&1 && timeout 60 az bicep version >/dev/null 2>&1; then
  echo "validate_bicep: az bicep $(az bicep version 2>/dev/null | head -1)"
  az bicep build --file "$MAIN" --stdout >/dev/null
  echo "BICEP OK: $MAIN compiles"
  exit 0
fi

if "$PYTHON" -c "import pycep" >/dev/null 2>&1; then
  "$PYTHON" - <<'PY'
import pathlib, sys
from pycep import BicepParser
parser, failed = BicepParser(), 0
for path in sorted(pathlib.Path("infra").rglob("*.bicep")):
    try:
        parser.parse(text=path.read_text(encoding="utf-8"))
    except Exception as exc:  # lark raises several exception types
        failed += 1
        print(f"SYNTAX ERROR {path}: {exc}".splitlines()[0], file=sys.stderr)
if failed:
    sys.exit(1)
print("SYNTAX OK (pycep-parser): every infra/*.bicep parses; not a full compile (no type or scope checks)")
PY
  exit 0
fi

echo "SKIPPED: no bicep or az CLI on this machine (and pycep-parser not installed for a syntax check)"
exit 0
