"""The lock files (scripts/lock.sh) pin every range of their inputs, with hashes, consistently.

Offline: it reads the files. It fails when a range was edited without running ./scripts/lock.sh.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {"requirements.txt": ["requirements.in"],
         "requirements-dev.lock": ["requirements-dev.txt", "requirements-worker.txt"]}


def ranges(name: str) -> list[Requirement]:
    """The requirements of an input file, following ``-r``."""
    found: list[Requirement] = []
    for line in (ROOT / name).read_text().splitlines():
        line = line.split(" #")[0].strip()
        if line.startswith("-r "):
            found += ranges(line[3:].strip())
        elif line and not line.startswith("#"):
            found.append(Requirement(line))
    return found


def pins(name: str) -> dict[str, tuple[str, list[str]]]:
    """package -> (version, hashes) of a lock file."""
    entries = re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)[^\n]*\n((?:\s+--hash=\S+(?: \\)?\n)*)",
                         (ROOT / name).read_text(), re.M)
    return {canonicalize_name(pkg): (version, re.findall(r"--hash=sha256:([0-9a-f]{64})", hashes))
            for pkg, version, hashes in entries}


@pytest.mark.parametrize("lock", LOCKS)
def test_every_range_is_pinned_within_it_with_hashes(lock):
    locked = pins(lock)
    assert locked and all(hashes for _, hashes in locked.values()), lock
    pinned_lines = [line for line in (ROOT / lock).read_text().splitlines() if "==" in line and not line.startswith(" ")]
    assert len(pinned_lines) == len(locked)  # every pin parsed, none without hashes
    for source in LOCKS[lock]:
        for requirement in ranges(source):
            name = canonicalize_name(requirement.name)
            assert name in locked, f"{name} ({source}) is not in {lock}: run ./scripts/lock.sh"
            assert requirement.specifier.contains(locked[name][0], prereleases=True), \
                f"{name}=={locked[name][0]} in {lock} is outside {requirement.specifier} ({source}): run ./scripts/lock.sh"


def test_the_app_packages_have_one_version_in_both_locks():
    deployed, dev = pins("requirements.txt"), pins("requirements-dev.lock")
    assert {name: deployed[name][0] for name in deployed} == {name: dev[name][0] for name in deployed}
