"""Port checks for scripts/run.sh (stdlib only: it runs before anything is installed).

    python tools/ports.py free PORT       # exit 0 if PORT can be bound on loopback, else 1
    python tools/ports.py listening PORT  # exit 0 if something accepts connections on PORT
"""
from __future__ import annotations

import socket
import sys


def can_bind(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        # as aiohttp and Azurite do, so a socket in TIME_WAIT does not count as busy
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("free", "listening"):
        print(__doc__, file=sys.stderr)
        return 2
    port = int(argv[1])
    ok = can_bind(port) and not listening(port) if argv[0] == "free" else listening(port)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
