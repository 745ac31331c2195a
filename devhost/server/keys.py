"""Host keys and the auth-level checks the Functions host applies (issue 3, item 5).

FUNCTION routes accept the default function key, the host key or the master key (``code``
query parameter or ``x-functions-key`` header); ADMIN routes the master key; the durable
management API the ``durabletask_extension`` system key or the master key.
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from aiohttp import web

MASTER_KEY_ENV = "DEVHOST_MASTER_KEY"
KEYS_FILE_ENV = "DEVHOST_KEYS_FILE"  # where keys are kept (default: <app>/.devhost/keys.json)


@dataclass(frozen=True)
class HostKeys:
    master: str
    function: str
    system: str

    @classmethod
    def generate(cls, master: str | None = None) -> "HostKeys":
        return cls(master=master or secrets.token_urlsafe(32), function=secrets.token_urlsafe(32),
                   system=secrets.token_urlsafe(32))

    @classmethod
    def load(cls, path: Path) -> tuple["HostKeys", bool]:
        """Keys from ``path``, created if missing. With ``DEVHOST_MASTER_KEY`` set (tests, CI) that
        master key is used and nothing is written: a stored file is read, never overwritten, so a
        run with a throw-away key leaves the developer's keys alone. Returns the keys and whether a
        new master key was generated."""
        stored: dict[str, str] = {}
        if path.is_file():
            try:
                stored = json.loads(path.read_text())
            except ValueError:
                stored = {}
        env_master = os.environ.get(MASTER_KEY_ENV)
        generated = not env_master and not stored.get("master")
        fresh = cls.generate()
        keys = cls(master=env_master or stored.get("master") or fresh.master,
                   function=stored.get("function") or fresh.function,
                   system=stored.get("system") or fresh.system)
        if not env_master and asdict(keys) != stored:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(asdict(keys), indent=2))
            os.chmod(path, 0o600)
        return keys, generated


def presented_key(request: web.Request) -> str | None:
    return request.headers.get("x-functions-key") or request.query.get("code")


def _matches(candidate: str | None, *keys: str) -> bool:
    if not candidate:
        return False
    return any(hmac.compare_digest(candidate.encode(), key.encode()) for key in keys)


class AuthPolicy:
    def __init__(self, keys: HostKeys | None) -> None:
        self.keys = keys  # None: checks off (--no-auth, as `func start` does locally)

    @property
    def enabled(self) -> bool:
        return self.keys is not None

    def allows(self, request: web.Request, level: str) -> bool:
        if self.keys is None or level == "anonymous":
            return True
        key = presented_key(request)
        if level == "function":
            return _matches(key, self.keys.function, self.keys.master)
        if level == "admin":
            return _matches(key, self.keys.master)
        if level == "system":
            return _matches(key, self.keys.system, self.keys.master)
        return False

    @property
    def system_key(self) -> str | None:
        return self.keys.system if self.keys else None


# Which key each auth level takes, for 401 bodies (names of keys, never their values).
REQUIRED_KEYS = {
    "function": "the function key (or the master key)",
    "admin": "the master key",
    "system": "the durabletask_extension system key (or the master key)",
}


def unauthorized(level: str) -> web.Response:
    needed = REQUIRED_KEYS.get(level, "a valid key")
    return web.json_response(
        {"error": f"Unauthorized: this route needs {needed} in the x-functions-key header or the code query "
                  "parameter.", "auth_level": level},
        status=401,
    )
