#!/usr/bin/env bash
# Refresh the lock files after editing a range:
#
#   requirements.in                                   -> requirements.txt      (deployed: Azure installs it)
#   requirements-dev.txt + requirements-worker.txt    -> requirements-dev.lock (scripts/bootstrap.sh installs it)
#
# Every package pinned with `==` and its sha256 hashes, resolved once for Python 3.11 and up on
# every platform (markers say where a pin applies, e.g. azure-functions-runtime on 3.13), so the
# same files install the same programs on 3.11, 3.12, 3.13, here and on Azure. Pins that still fit
# the ranges are kept; --upgrade takes the newest release each range allows. The dev lock is
# constrained by requirements.txt, so the app's packages have the same version in both.
#
# Needs uv (from PyPI), installed into .venv-tools/ on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.8

upgrade=()
[ "${1:-}" = "--upgrade" ] && upgrade=(--upgrade)

if [ "$(.venv-tools/bin/uv --version 2>/dev/null)" != "uv $UV_VERSION" ]; then
  "${PYTHON:-python3}" -m venv .venv-tools
  .venv-tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

compile() {  # compile OUTPUT INPUT...
  local output=$1; shift
  .venv-tools/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command ./scripts/lock.sh "${upgrade[@]}" -o "$output" "$@"
  echo "lock: $output ($(grep -c '==' "$output") packages)"
}
compile requirements.txt requirements.in
compile requirements-dev.lock requirements-dev.txt requirements-worker.txt --constraint requirements.txt
