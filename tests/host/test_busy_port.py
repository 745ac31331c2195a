"""``python -m devhost`` on a port that is taken: one line and exit code 3, no traceback."""
from __future__ import annotations

import socket
import subprocess
import sys

from tests.host.conftest import HOST_TEST_APP


def test_a_busy_port_is_one_line_not_a_traceback():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "devhost", "--app-dir", str(HOST_TEST_APP), "--port", str(port),
                              "--store", "memory"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 3, run.stdout + run.stderr
    errors = [line for line in (run.stdout + run.stderr).splitlines() if "already in use" in line]
    assert len(errors) == 1 and f"port {port}" in errors[0] and "Traceback" not in run.stdout + run.stderr
