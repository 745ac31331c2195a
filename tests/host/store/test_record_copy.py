"""``InstanceRecord.copy``: the same as ``copy.copy`` / ``dataclasses.replace``, field for field."""
from __future__ import annotations

import copy
import dataclasses
from datetime import datetime, timedelta, timezone

from devhost.store.base import InstanceRecord, ParentRef


def record() -> InstanceRecord:
    now = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    return InstanceRecord(instance_id="i", name="n", execution_id="e", status="Running", input='"x"',
                          created_time=now, last_updated_time=now, output="1", custom_status='{"a":1}',
                          parent=ParentRef("p", "pe", 3, "parent"), generation=2, etag="7")


def test_copy_is_a_shallow_copy_like_copy_copy():
    original = record()
    clone = original.copy()
    assert clone == copy.copy(original) and clone is not original
    assert type(clone) is InstanceRecord
    assert clone.parent is original.parent  # shallow, as copy.copy
    clone.status = "Completed"
    clone.etag = "8"
    assert original.status == "Running" and original.etag == "7"


def test_copy_with_changes_is_dataclasses_replace():
    original = record()
    later = original.last_updated_time + timedelta(seconds=1)
    assert original.copy(last_updated_time=later) == dataclasses.replace(original, last_updated_time=later)
    assert original.last_updated_time != later
    assert vars(original.copy()) == vars(copy.copy(original))
