"""On/off switches of the host's exact fast paths (``fast_timestamps``, ``sdk_patches``)."""
from __future__ import annotations

import os
from typing import Callable


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
