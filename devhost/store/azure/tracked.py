"""One choke point for every storage write: table and blob clients wrapped to count writes.

``WriteFaults`` is the crash-point hook of the exploration tests (tests/host/store/crashpoints):
the process "dies" right after its k-th write; from then on every write fails as it would
in a dead process, so nothing the store does after that point reaches the storage.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection

from ...faults import InjectedCrash

TABLE_WRITES = frozenset({"create_entity", "upsert_entity", "update_entity", "delete_entity",
                          "submit_transaction"})
BLOB_WRITES = frozenset({"upload_blob", "delete_blob"})


@dataclass
class WriteFaults:
    """Count writes; with ``crash_after`` = k, raise ``InjectedCrash`` after the k-th write.
    ``only``: count only writes of these kinds (``"<client>.<method>"``, e.g.
    ``"history.submit_transaction"``, an episode's commit), to die right after the k-th of them."""

    crash_after: int | None = None
    writes: int = 0
    dead: bool = False
    only: Collection[str] = ()

    def before(self) -> None:
        if self.dead:
            raise InjectedCrash("the process is dead")

    def after(self, kind: str = "") -> None:
        if self.only and kind not in self.only:
            return
        self.writes += 1
        if self.crash_after is not None and self.writes >= self.crash_after:
            self.dead = True
            raise InjectedCrash(f"crash after storage write {self.writes}")


class Tracked:
    """A table or container client whose write methods go through ``WriteFaults``."""

    def __init__(self, client: Any, writes: frozenset[str], faults: WriteFaults, name: str = "") -> None:
        self._client = client
        self._writes = writes
        self._faults = faults
        self._name = name

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in self._writes:
            return attribute
        faults = self._faults
        kind = f"{self._name}.{name}"

        async def write(*args: Any, **kwargs: Any) -> Any:
            faults.before()
            result = await attribute(*args, **kwargs)
            faults.after(kind)
            return result

        return write
