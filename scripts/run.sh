#!/usr/bin/env bash
# Command 1 of 2: run the app locally on http://localhost:7071.
# Installs what is missing, starts Azurite (data in .azurite/), then serves the app with
# `func start` when Azure Functions Core Tools are installed, otherwise with the local durable
# host (`python -m devhost`). Pass --devhost to force the local host; other args go to it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh

[ -f local.settings.json ] || { cp local.settings.json.example local.settings.json; echo "run: created local.settings.json from the example"; }

.venv/bin/python tools/azurite.py start --data .azurite >/dev/null
echo "run: Azurite is running (blob 10000, queue 10001, table 10002; data in .azurite/)"
trap '.venv/bin/python tools/azurite.py stop --data .azurite' EXIT

use_devhost=0
if [ "${1:-}" = "--devhost" ]; then use_devhost=1; shift; fi
if [ $use_devhost -eq 0 ] && command -v func >/dev/null 2>&1; then
  # shellcheck disable=SC1091
  source .venv/bin/activate
  exec_cmd=(func start "$@")
else
  exec_cmd=(.venv/bin/python -m devhost --app-dir . --port 7071 "$@")
fi
"${exec_cmd[@]}"
