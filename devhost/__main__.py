"""``devhost`` (or ``python -m devhost``): serve a function app locally on port 7071."""
from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import sys
from pathlib import Path

from .app_index import AppLoadError, load_app
from .clock import RealClock
from .config import load_config
from .disabled import DisabledFunctions
from .host import DurableHost, HostSettings
from .scheduler import RuntimeOptions
from .serve import serve
from .server import AuthPolicy, HostKeys
from .server.dashboard import DASHBOARD_PATH
from .server.keys import KEYS_FILE_ENV
from .server.rpc import EXTENSION_DEFAULT_PORT
from .stores import open_store
from .timer_triggers import TimerTriggers

log = logging.getLogger("devhost")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="devhost", description=__doc__)
    parser.add_argument("--app-dir", default=".", help="function app directory (default: current)")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (default: loopback)")
    parser.add_argument("--no-auth", action="store_true", help="turn key checks off, as `func start` does")
    parser.add_argument("--keys-file", type=Path, default=os.environ.get(KEYS_FILE_ENV) or None,
                        help=f"where the host keys are kept (default: ${KEYS_FILE_ENV}, else APP_DIR/.devhost/keys.json)")
    parser.add_argument("--store", choices=["auto", "memory", "azure"], default="auto",
                        help="state store: azure (AzureWebJobsStorage, Azurite locally), memory, or auto")
    parser.add_argument("--no-fast-timestamps", action="store_true",
                        help="parse every history timestamp with dateutil (same results, slower)")
    parser.add_argument("--no-sdk-patches", action="store_true",
                        help="leave the SDK's replay unpatched (devhost/sdk_patches/; same results, slower)")
    parser.add_argument("--verbose", "-v", action="store_true")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    config = load_config(args.app_dir)
    try:
        index = load_app(config.app_dir)
    except AppLoadError as exc:
        log.error("%s", exc)
        return 2
    keys = None
    if not args.no_auth:
        keys_file = args.keys_file or config.app_dir / ".devhost" / "keys.json"
        keys, generated = HostKeys.load(keys_file)
        if generated:
            log.info("Generated a master key (kept in %s; set DEVHOST_MASTER_KEY to choose one).", keys_file)
    store = open_store(args.store, config)
    disabled = DisabledFunctions.from_settings(index.functions)
    options = RuntimeOptions(fast_timestamps=False if args.no_fast_timestamps else None,
                             sdk_patches=False if args.no_sdk_patches else None, payloads=config.payloads,
                             disabled=disabled, **config.runtime_overrides())
    host = DurableHost(index, store, RealClock(), settings=HostSettings(task_hub=config.task_hub),
                       options=options, on_invocation=_log_invocation)
    await host.start()
    try:
        server = await serve(host, AuthPolicy(keys), bind=args.bind, port=args.port,
                             route_prefix=config.route_prefix, rpc_port=EXTENSION_DEFAULT_PORT)
    except OSError as exc:
        await host.stop()
        if exc.errno != errno.EADDRINUSE:
            raise
        log.error("devhost: port %s on %s is already in use (another host or `func start`?): stop it or pass --port",
                  args.port, args.bind)
        return 3
    timers = TimerTriggers(index.of_kind("timer"), host.clock, host.invoker, disabled)
    timers.start()
    _print_banner(index, disabled, server.base_url, config.route_prefix, keys, type(store).__name__, config.task_hub)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("Stopping...")
    await timers.stop()
    await server.close()
    await host.stop()
    return 0


def _log_invocation(kind: str, name: str, instance_id: str, seconds: float) -> None:
    log.info("%-12s %-28s %s (%.1f ms)", kind, name, instance_id, seconds * 1000)


def _print_banner(index, disabled: DisabledFunctions, base_url: str, prefix: str, keys: HostKeys | None,
                  store: str, hub: str) -> None:
    lines = [f"devhost: serving {index.app_dir} on {base_url} (store: {store}, task hub: {hub})",
             f"Dashboard: {base_url}{DASHBOARD_PATH} (master key)", "", "Functions:"]
    for info in index.functions:
        if info in disabled:
            lines.append(f"  {info.name}: {info.kind} (disabled: AzureWebJobs.{info.name}.Disabled)")
        elif info.kind == "http":
            methods = ",".join(info.methods or ["*"])
            lines.append(f"  {info.name}: [{methods}] {base_url}/{prefix}/{info.route} (auth: {info.auth_level})")
        else:
            lines.append(f"  {info.name}: {info.kind}Trigger")
    if keys is not None:
        lines += ["", f"Function key: {keys.function}", f"Master key:   {keys.master}",
                  f"System key (durable management API): {keys.system}", "",
                  "In another shell, for the README's curl lines:", f"export KEY={keys.function}"]
    else:
        lines += ["", "Key checks are OFF (--no-auth)."]
    print("\n".join(lines), flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(message)s", stream=sys.stdout)
    logging.getLogger("azure").setLevel(logging.WARNING)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
