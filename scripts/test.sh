#!/usr/bin/env bash
# Command 2 of 2: run the whole test suite. Installs what is missing; the tests start Azurite
# themselves on free ports (and stop it), unless DEVHOST_TEST_STORAGE names a running one.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
./scripts/validate_bicep.sh
exec .venv/bin/python -m pytest "$@"
