"""The lock files (scripts/lock.sh) pin every range of their inputs, with hashes, consistently, on
each Python Azure offers (a pin's marker says where it applies).

Offline: it reads the files. It fails when a range was edited without running ./scripts/lock.sh.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {"requirements.txt": ["requirements.in"],
         "requirements-dev.lock": ["requirements-dev.txt", "requirements-worker.txt"]}
PYTHONS = ["3.11", "3.12", "3.13"]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)(?: ; ([^\\\n]+?))? *\\?\n((?:\s+--hash=\S+(?: \\)?\n)*)",
                 re.M)


def environment(python: str) -> dict[str, str]:
    return {"python_version": python, "python_full_version": f"{python}.0", "sys_platform": "linux",
            "platform_system": "Linux", "platform_python_implementation": "CPython", "implementation_name": "cpython"}


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


def pins(lock: str, python: str) -> dict[str, str]:
    """package -> version that ``lock`` installs on ``python``; every pin has hashes, none is doubled."""
    text = (ROOT / lock).read_text()
    entries = PIN.findall(text)
    assert len(entries) == len([line for line in text.splitlines() if "==" in line and not line.startswith(" ")])
    chosen: dict[str, str] = {}
    for package, version, marker, hashes in entries:
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", hashes), f"{package} in {lock} has no hash"
        if marker and not Marker(marker).evaluate(environment(python)):
            continue
        name = canonicalize_name(package)
        assert name not in chosen, f"two pins of {name} apply on {python} in {lock}"
        chosen[name] = version
    return chosen


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("lock", LOCKS)
def test_every_range_is_pinned_within_it(lock, python):
    locked = pins(lock, python)
    for source in LOCKS[lock]:
        for requirement in ranges(source):
            if requirement.marker and not requirement.marker.evaluate(environment(python)):
                continue
            name = canonicalize_name(requirement.name)
            assert name in locked, f"{name} ({source}) is not in {lock} for {python}: run ./scripts/lock.sh"
            assert requirement.specifier.contains(locked[name], prereleases=True), \
                f"{name}=={locked[name]} in {lock} is outside {requirement.specifier} ({source}): run ./scripts/lock.sh"


@pytest.mark.parametrize("python", PYTHONS)
def test_the_app_packages_have_one_version_in_both_locks(python):
    deployed, dev = pins("requirements.txt", python), pins("requirements-dev.lock", python)
    assert deployed == {name: dev[name] for name in deployed}
