#!/usr/bin/env bash
# Command 1 of 2: run the app locally on http://localhost:7071.
#
#   ./scripts/run.sh [--devhost] [--port N] [ARGS...]
#
# Installs what is missing, starts Azurite (data in .azurite/) unless one already listens on its
# ports, uploads the sample blobs (samples/), then serves the app with `func start` when Azure
# Functions Core Tools are installed, otherwise with the local durable host (`python -m devhost`).
# --devhost forces the local host; other args go to the host. A busy port is refused before
# anything starts. On exit (or SIGINT/SIGTERM, forwarded to the host) it stops only what it started.
# AZURITE_PORTS=blob,queue,table and AZURITE_DATA=DIR move Azurite (the tests use both).
set -euo pipefail
cd "$(dirname "$0")/.."

use_devhost=0 port=7071 host_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --devhost) use_devhost=1 ;;
    --port) port=$2; shift ;;
    --port=*) port=${1#--port=} ;;
    *) host_args+=("$1") ;;
  esac
  shift
done
azurite_ports=${AZURITE_PORTS:-10000,10001,10002} azurite_data=${AZURITE_DATA:-.azurite}

if ! "${PYTHON:-python3}" tools/ports.py free "$port"; then
  echo "run: port $port is already in use (another ./scripts/run.sh or func start?): stop it or pass --port N" >&2
  exit 1
fi

./scripts/bootstrap.sh

[ -f local.settings.json ] || { cp local.settings.json.example local.settings.json; echo "run: created local.settings.json from the example"; }

started_azurite=0 host_pid=
cleanup() {
  if [ -n "$host_pid" ] && kill -0 "$host_pid" 2>/dev/null; then kill -TERM "$host_pid" 2>/dev/null || true; wait "$host_pid" || true; fi
  if [ $started_azurite -eq 1 ]; then .venv/bin/python tools/azurite.py stop --data "$azurite_data"; fi
}
trap cleanup EXIT

if .venv/bin/python tools/ports.py listening "${azurite_ports%%,*}"; then
  echo "run: using the Azurite already listening on ${azurite_ports%%,*} (not started here, so left running on exit)"
else
  .venv/bin/python tools/azurite.py start --data "$azurite_data" --ports "$azurite_ports" >/dev/null
  started_azurite=1
  echo "run: Azurite is running (ports $azurite_ports; data in $azurite_data/)"
fi
if [ "$azurite_ports" != "10000,10001,10002" ]; then
  AzureWebJobsStorage=$(.venv/bin/python -c "import sys; sys.path.insert(0, 'tools'); import azurite; \
print(azurite.connection_string(*map(int, '$azurite_ports'.split(','))))")
  export AzureWebJobsStorage  # wins over local.settings.json's UseDevelopmentStorage=true
fi
.venv/bin/python scripts/seed_samples.py

if [ $use_devhost -eq 0 ] && command -v func >/dev/null 2>&1; then
  echo "run: func start checks no keys locally: export KEY=any"
  # shellcheck disable=SC1091
  source .venv/bin/activate
  host_cmd=(func start --port "$port" "${host_args[@]}")
else
  host_cmd=(.venv/bin/python -m devhost --app-dir . --port "$port" "${host_args[@]}")
fi

"${host_cmd[@]}" &
host_pid=$!
trap 'kill -TERM "$host_pid" 2>/dev/null || true' INT TERM
status=0
while :; do
  wait "$host_pid" && status=0 || status=$?
  kill -0 "$host_pid" 2>/dev/null || break  # a trapped signal interrupts `wait`: wait for the host itself
done
host_pid=
exit "$status"
