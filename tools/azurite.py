"""Start and stop Azurite (the Azure Storage emulator) for local runs and tests.

    python tools/azurite.py start [--data DIR] [--ports 10000,10001,10002]   # prints a connection string
    python tools/azurite.py stop --data DIR

``AzuriteProcess`` is used by the test fixtures: it picks free ports, keeps its data in a
temporary folder, waits until all three services answer, and stops the process afterwards.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
# Azurite's well-known development key (public, documented; not a secret).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_binary() -> str:
    local = ROOT / "node_modules" / ".bin" / "azurite"
    if local.exists():
        return str(local)
    found = shutil.which("azurite")
    if found:
        return found
    raise FileNotFoundError("Azurite is not installed: run `npm ci` in the repository root.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def connection_string(blob: int, queue: int, table: int, host: str = "127.0.0.1") -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://{host}:{blob}/{ACCOUNT};QueueEndpoint=http://{host}:{queue}/{ACCOUNT};"
            f"TableEndpoint=http://{host}:{table}/{ACCOUNT};")


def _wait_for_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"Azurite did not open port {port}")


@dataclass
class AzuriteProcess:
    data_dir: Path
    blob_port: int = 0
    queue_port: int = 0
    table_port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def connection_string(self) -> str:
        return connection_string(self.blob_port, self.queue_port, self.table_port)

    def start(self, timeout: float = 30.0) -> "AzuriteProcess":
        self.blob_port = self.blob_port or free_port()
        self.queue_port = self.queue_port or free_port()
        self.table_port = self.table_port or free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            azurite_binary(), "--silent", "--skipApiVersionCheck", "--disableProductStyleUrl",
            "--location", str(self.data_dir), "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1",
            "--tableHost", "127.0.0.1", "--blobPort", str(self.blob_port), "--queuePort", str(self.queue_port),
            "--tablePort", str(self.table_port),
        ]
        log = open(self.data_dir / "azurite.log", "ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        try:
            for port in (self.blob_port, self.queue_port, self.table_port):
                _wait_for_port(port, deadline)
        except TimeoutError:
            self.stop()
            raise
        (self.data_dir / "azurite.pid").write_text(str(self.process.pid))
        return self

    def stop(self, grace: float = 1.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds (Azurite often ignores SIGTERM once it
        has served requests; its data is flushed per request, so nothing is lost)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


def temporary() -> AzuriteProcess:
    return AzuriteProcess(Path(tempfile.mkdtemp(prefix="azurite-")))


# Set by .ci/run or a developer to reuse a running emulator instead of starting one.
EXTERNAL_STORAGE_ENV = "DEVHOST_TEST_STORAGE"


@contextlib.contextmanager
def external_or_temporary(external: str | None) -> Iterator[str]:
    """``external`` (the value of ``EXTERNAL_STORAGE_ENV``, read by the caller) if set, else the
    connection string of a throw-away Azurite started here and stopped on exit."""
    if external:
        yield external
        return
    process = temporary().start()
    try:
        yield process.connection_string
    finally:
        process.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run Azurite for this project")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start in the background and print the connection string")
    start.add_argument("--data", default=str(ROOT / ".azurite"))
    start.add_argument("--ports", default="10000,10001,10002", help="blob,queue,table ports")
    stop = sub.add_parser("stop")
    stop.add_argument("--data", default=str(ROOT / ".azurite"))
    args = parser.parse_args(argv)
    data = Path(args.data)
    if args.command == "start":
        blob, queue, table = (int(p) for p in args.ports.split(","))
        pid_file = data / "azurite.pid"
        if pid_file.is_file():
            try:
                os.kill(int(pid_file.read_text()), 0)
                print(connection_string(blob, queue, table))
                return 0  # already running
            except (OSError, ValueError):
                pass
        azurite = AzuriteProcess(data, blob, queue, table).start()
        azurite.process = None  # leave it running after we exit
        print(azurite.connection_string)
        return 0
    pid_file = data / "azurite.pid"
    if pid_file.is_file():
        try:
            _terminate_group(int(pid_file.read_text()))
        except ValueError:
            pass
        pid_file.unlink()
    return 0


def _terminate_group(pid: int, grace: float = 2.0) -> None:
    """SIGTERM the process group, SIGKILL it if it is still there after ``grace`` seconds."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except OSError:
            return
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
