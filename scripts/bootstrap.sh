#!/usr/bin/env bash
# Install everything the app, the local host and the tests need: a virtualenv from the lock file
# requirements-dev.lock (exact versions, hashes checked; refresh it with scripts/lock.sh), and
# Azurite from the committed package-lock.json. Idempotent and quick when nothing changed (stamp
# files record what was installed).
#
# --other-pythons (scripts/test.sh) also builds .venv-3.13 (required; with the official worker
# library, requirements-worker.txt, in the lock for 3.13 only) and .venv-3.12 (when that
# interpreter exists) from pyenv's interpreters, or from PYTHON313 / PYTHON312. Without 3.13 it
# fails, unless DEVHOST_SKIP_PY313=1.
set -euo pipefail
cd "$(dirname "$0")/.."

# ensure_venv DIR PYTHON REQUIREMENTS...: create DIR from PYTHON and install the files when they changed.
ensure_venv() {
  local dir=$1 python=$2; shift 2
  if [ ! -x "$dir/bin/python" ]; then
    echo "bootstrap: creating $dir ($("$python" --version 2>&1))"
    "$python" -m venv "$dir"
  fi
  local stamp=$dir/.requirements.sha hash
  hash=$(cat requirements.txt "$@" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
    echo "bootstrap: installing Python requirements into $dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes $(printf -- '-r %s ' "$@")
    echo "$hash" > "$stamp"
  fi
}

# find_python 3.13: an interpreter of exactly that version (PYTHON313-style override, pyenv, PATH).
find_python() {
  local version=$1 override="PYTHON${1//./}" candidate
  local pyenv_root
  pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for candidate in "${!override:-}" $(ls -d "$pyenv_root"/versions/"$version".*/bin/python"$version" 2>/dev/null \
                   | sort -V -r) "$(command -v "python$version" || true)"; do
    if [ -n "$candidate" ] && "$candidate" -c "import sys; sys.exit(sys.version[:${#version}+1] != '$version.')" \
         2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "bootstrap: Python 3.11+ is required (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
ensure_venv .venv "$PYTHON" requirements-dev.lock

if [ "${1:-}" = "--other-pythons" ]; then
  pids=()
  if python313=$(find_python 3.13); then
    ensure_venv .venv-3.13 "$python313" requirements-dev.lock & pids+=($!)  # + requirements-worker.txt (3.13 markers)
  elif [ "${DEVHOST_SKIP_PY313:-}" = "1" ]; then
    echo "bootstrap: WARNING: no Python 3.13: the official worker library check is SKIPPED (DEVHOST_SKIP_PY313=1)" >&2
  else
    echo "bootstrap: no Python 3.13 found (pyenv or PYTHON313): it runs the official worker library" \
         "(azure-functions-runtime). Install it, or set DEVHOST_SKIP_PY313=1 to skip that check." >&2
    exit 1
  fi
  if python312=$(find_python 3.12); then
    ensure_venv .venv-3.12 "$python312" requirements-dev.lock & pids+=($!)
  else
    echo "bootstrap: WARNING: no Python 3.12 found: the 3.12 run is skipped" >&2
  fi
  for pid in "${pids[@]}"; do wait "$pid"; done  # in parallel: mostly download and unpack time
fi

command -v npm >/dev/null 2>&1 || { echo "bootstrap: Node.js/npm is required for Azurite" >&2; exit 1; }
node_stamp=node_modules/.lock.sha
node_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$node_stamp" 2>/dev/null)" != "$node_hash" ] || [ ! -x node_modules/.bin/azurite ]; then
  echo "bootstrap: installing Azurite (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$node_hash" > "$node_stamp"
fi
