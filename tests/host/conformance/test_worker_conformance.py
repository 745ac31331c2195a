"""Same verdict from the host's copy of the worker's rules and from the official worker library.

The platform's rules: ``Registry.add_indexed_function`` in azure_functions_runtime/functions.py
(PyPI ``azure-functions-runtime``, Python 3.13+) and in azure_functions_worker/functions.py
(Azure/azure-functions-python-worker, the 4.x worker Azure runs for 3.11/3.12); the two differ
only in wording. On 3.11 the host's rules are held to ``expected.json`` (recorded from the
official library); on 3.13 (``.venv-3.13``, run by scripts/test.sh) the official library is run
on every app too, and must still give the recorded verdict and message.
"""
from __future__ import annotations

import pytest

from devhost.worker_index import official_library_available

from .corpus import RECORDED_KEYS, RULES, case_names, expected, verdict

CASES = case_names()
needs_official_library = pytest.mark.skipif(
    not official_library_available(),
    reason="azure-functions-runtime needs Python 3.13+; scripts/test.sh runs this file in .venv-3.13")


def test_the_corpus_has_valid_apps_and_every_refusal_rule():
    record = expected()
    assert sorted(record) == CASES
    assert sum(entry["loads"] for entry in record.values()) >= 4
    assert {entry["rule"] for entry in record.values() if not entry["loads"]} == set(RULES)


@pytest.mark.parametrize("case", CASES)
def test_host_rules_give_the_official_verdict(case, tmp_path):
    want = expected()[case]
    got = verdict(case, "rules", tmp_path)
    assert (got["loads"], got["function"], got["rule"]) == (want["loads"], want["function"], want["rule"])
    if got["loads"]:
        return
    assert got["message"] in got["host_message"]  # the host's error carries the worker's text
    if want["function"]:
        assert got["message"].startswith(f"cannot load the {want['function']} function: ")


@needs_official_library
@pytest.mark.parametrize("case", CASES)
def test_official_library_still_gives_the_recorded_verdict(case, tmp_path):
    got = verdict(case, "official", tmp_path)
    assert {key: got[key] for key in RECORDED_KEYS} == expected()[case]


def test_the_host_indexes_through_the_official_library_wherever_it_is_importable(tmp_path):
    got = verdict("builtin_generic_annotation", "auto", tmp_path)
    checker = "azure-functions-runtime" if official_library_available() else "devhost.worker_rules"
    assert f"(checked by {checker}" in got["host_message"]
    assert "cannot load the validate_order function: binding payload has invalid non-type annotation" \
        in got["host_message"]
