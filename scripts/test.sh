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
# The dashboard's browser tests (tests/host/dashboard) drive Debian's Chromium through the playwright
# package (requirements-dev.txt), which never downloads a browser of its own.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing Debian's chromium (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif [ "${CI:-}" = "true" ]; then
    echo "test: chromium is missing and cannot be installed here (needs root and apt-get)" >&2; exit 1
  else
    echo "test: WARNING: no chromium (needs root and apt-get): the dashboard's browser tests are SKIPPED" >&2
  fi
fi
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
