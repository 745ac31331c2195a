"""Would the Azure Functions Python worker load this app? Index it the way the worker does.

    python -m devhost.worker_check [APP_DIR] [--require-official]

Uses the official worker library (``azure-functions-runtime``, Python 3.13+) when the running
interpreter has it, otherwise devhost's copy of the worker's rules (``devhost.worker_rules``).
``--require-official`` fails when the library is missing, so a check meant to run on the real
library cannot quietly fall back. Exit codes: 0 every function indexes, 1 refused, 2 no library.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .worker_index import OFFICIAL_LIBRARY, WorkerIndexError, index_app, official_library_available


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devhost.worker_check", description=__doc__.split("\n")[0])
    parser.add_argument("app_dir", nargs="?", default=".", help="function app directory (default: current)")
    parser.add_argument("--require-official", action="store_true",
                        help=f"fail unless {OFFICIAL_LIBRARY} is importable in this interpreter")
    args = parser.parse_args(argv)
    if args.require_official and not official_library_available():
        print(f"worker_check: {OFFICIAL_LIBRARY} is not importable in Python {sys.version.split()[0]} "
              f"({sys.executable}); it needs Python 3.13+ and `pip install -r requirements-worker.txt`.")
        return 2
    app_dir = Path(args.app_dir).resolve()
    sys.path.insert(0, str(app_dir))
    try:
        verdict = index_app(app_dir)
    except WorkerIndexError as exc:
        print(f"worker_check: indexing {app_dir} failed: {exc}")
        return 1
    refused = {refusal.function: refusal for refusal in verdict.refusals}
    for function in verdict.functions:
        name = function.get_function_name()
        print(f"  {'REFUSED' if name in refused else 'ok':8} {name}")
    for refusal in verdict.refusals:
        print(refusal)
    print(f"{len(verdict.functions) - len(refused)} of {len(verdict.functions)} functions index "
          f"(checked by {verdict.checked_by}, Python {sys.version.split()[0]})")
    return 0 if verdict.loads else 1


if __name__ == "__main__":
    sys.exit(main())
