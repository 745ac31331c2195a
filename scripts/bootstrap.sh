#!/usr/bin/env bash
# Install everything the app, the local host and the tests need: a virtualenv with
# requirements-dev.txt, and Azurite from the committed package-lock.json. Idempotent and quick
# when nothing changed (stamp files record what was installed).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "bootstrap: Python 3.11+ is required (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
fi
py_stamp=.venv/.requirements.sha
py_hash=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$py_stamp" 2>/dev/null)" != "$py_hash" ]; then
  echo "bootstrap: installing Python requirements"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$py_hash" > "$py_stamp"
fi

command -v npm >/dev/null 2>&1 || { echo "bootstrap: Node.js/npm is required for Azurite" >&2; exit 1; }
node_stamp=node_modules/.lock.sha
node_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$node_stamp" 2>/dev/null)" != "$node_hash" ] || [ ! -x node_modules/.bin/azurite ]; then
  echo "bootstrap: installing Azurite (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$node_hash" > "$node_stamp"
fi
