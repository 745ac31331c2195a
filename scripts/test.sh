#!/usr/bin/env bash
# Command 2 of 2: run the whole test suite. Installs what is missing; the tests start Azurite
# themselves on free ports (and stop it), unless DEVHOST_TEST_STORAGE names a running one.
#
# The whole suite runs on .venv (Python 3.11, what infra/ deploys). Then, on each other Python
# Azure offers that this machine has: the real worker's index check of function_app.py (on 3.13
# through the official azure-functions-runtime library), the conformance corpus and the pattern
# tests. Arguments go to the 3.11 run only.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh --other-pythons
./scripts/validate_bicep.sh
.venv/bin/python -m pytest "$@"

if [ -x .venv-3.13/bin/python ]; then
  echo "test: the official worker library indexes function_app.py (Python 3.13, azure-functions-runtime)"
  .venv-3.13/bin/python -m devhost.worker_check --require-official . | tail -1
fi
for venv in .venv-3.13 .venv-3.12; do
  [ -x "$venv/bin/python" ] || continue
  echo "test: $($venv/bin/python --version 2>&1): conformance corpus (worker rules) and pattern tests"
  "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/host/conformance tests/patterns
done
