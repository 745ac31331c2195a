"""On/off switches of the host's exact fast paths (``fast_timestamps``, ``sdk_patches``)."""
from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import os
from typing import Any, Callable, Mapping


def env_on(name: str) -> bool:
    """An environment switch: on unless set to 0/false/no/off."""
    return os.environ.get(name, "1").strip().lower() not in ("0", "false", "no", "off")


def configure(enabled: bool | None, env_var: str, install: Callable[[], bool], uninstall: Callable[[], None]) -> bool:
    """On (``True``), off (``False``) or per ``env_var`` (``None``); returns whether it is on."""
    if enabled is None:
        enabled = env_on(env_var)
    if enabled:
        return install()
    uninstall()
    return False


def source_hash(*objects: Any) -> str | None:
    """First 16 hex digits of sha256 over the source texts of ``objects`` (functions or classes),
    or None when one has no source to read."""
    digest = hashlib.sha256()
    try:
        for obj in objects:
            digest.update(inspect.getsource(obj).encode())
    except (OSError, TypeError):
        return None
    return digest.hexdigest()[:16]


def source_hashes(sources: Mapping[str, Any]) -> dict[str, str | None]:
    """``source_hash`` of each named function or class (what to record after checking a new version)."""
    return {name: source_hash(obj) for name, obj in sources.items()}


def checked_code_status(checked: Mapping[str, tuple[str, ...]], recorded: Mapping[str, str],
                        sources: Callable[[], Mapping[str, Any]]) -> str | None:
    """None when every distribution in ``checked`` has a checked version and the code a fast path
    mirrors (``sources()``) hashes to the ``recorded`` digests; else why not."""
    for distribution, versions in checked.items():
        version = importlib.metadata.version(distribution)
        if version not in versions:
            return f"{distribution} {version} is not a checked version ({', '.join(versions)})"
    changed = [name for name, digest in source_hashes(sources()).items() if recorded.get(name) != digest]
    if changed:
        return f"the SDK's code changed: {', '.join(changed)}"
    return None
