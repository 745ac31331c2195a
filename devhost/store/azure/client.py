"""The table and blob clients of one task hub, the caches shared by the store's parts, and the
store's lifecycle (open, close, delete)."""
from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

from azure.core import MatchConditions
from azure.core.pipeline.transport import AioHttpTransport
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import UpdateMode
from azure.data.tables.aio import TableServiceClient
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

from ..base import TERMINAL_STATUSES, Message, Store, WorkItem
from . import batch_codec
from .gate import RequestGate
from .lean_tables import LeanAccount
from .keys import escape_key, normalize_connection_string, validate_task_hub
from .tracked import BLOB_WRITES, TABLE_WRITES, Tracked, WriteFaults


# ---------------------------------------------------------------------------- small records
@dataclass
class _Sentinel:
    etag: str
    execution_id: str
    status: str
    history_start: int
    history_end: int
    consumed: frozenset[str]
    read_at: float
    outbox: str  # RowKey of the last commit's outbox row ("" if it sent nothing)
    entity: dict[str, Any] = field(repr=False, default_factory=dict)
    written_here: bool = False  # by this process's start or commit (not read)


@dataclass
class _WorkState:
    partition: str
    etag: str
    owner: str
    until: float
    count: int


@dataclass
class _LazyWork:
    """A work item this process runs at once, stored so far only in its instance's kept outbox
    row (work.py, "lazy work items"); ``count``: its attempts here."""

    item: WorkItem
    count: int = 0


class _GatedTransport(AioHttpTransport):
    """The SDK clients' transport, through the store's ``RequestGate``."""

    def __init__(self, gate: RequestGate) -> None:
        # Without a proxy in the environment, aiohttp's trust_env costs two thread hops per request
        # (a ~/.netrc lookup, never usable next to SharedKey's Authorization header, and a proxy
        # lookup that finds none): measured 15-20% of this host's CPU per request on Azurite.
        super().__init__(use_env_settings=bool(urllib.request.getproxies()))
        self._gate = gate

    async def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        async with self._gate.admit():
            return await super().send(request, **kwargs)


class AzureBase(Store):
    """State and clients shared by the parts of ``AzureStore`` (one mixin per job)."""

    shared = True

    def __init__(self, connection_string: str, task_hub: str, *, lease_seconds: float | None = None,
                 poll_interval: float | None = None, owner: str | None = None) -> None:
        self.connection_string = normalize_connection_string(connection_string)
        self.task_hub = validate_task_hub(task_hub)
        self.lease_seconds = float(lease_seconds or os.environ.get("DEVHOST_LEASE_SECONDS") or 15)
        self.poll_interval = float(poll_interval or os.environ.get("DEVHOST_POLL_SECONDS") or 0.5)
        self.background_requests = int(os.environ.get("DEVHOST_BACKGROUND_REQUESTS") or 16)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.faults = WriteFaults()
        self.fast_batch: bool | None = None  # batch_codec's fast transactions (None: DEVHOST_FAST_BATCH)
        self.lean_tables: bool | None = None  # lean_tables' single-entity requests (None: DEVHOST_LEAN_TABLES)
        self._lean: LeanAccount | None = None
        # Extra keyword arguments for the SDK clients (e.g. bench/storage_requests.py's raw_request_hook).
        self.client_kwargs: dict[str, Any] = {}
        hub = task_hub
        self.table_names = {
            "instances": f"{hub}Instances", "history": f"{hub}History", "messages": f"{hub}Messages",
            "entities": f"{hub}Entities", "leases": f"{hub}Leases",
        }
        # Work items used to have a table of their own; they now live in the Messages table
        # (work.py). ``open()`` moves what an older version left in this one.
        self.legacy_work_table = f"{hub}WorkItems"
        self.container_name = f"{hub.lower()}-largemessages"
        self._service: TableServiceClient | None = None
        self._blob_service: BlobServiceClient | None = None
        self._container: ContainerClient | None = None
        self._t: dict[str, Any] = {}  # Tracked TableClients
        # Caches (this process only; each is validated against an ETag before use).
        self._sentinels: dict[str, _Sentinel] = {}
        self._resolved: dict[str, tuple[str, set[Any]]] = {}
        self._entity_rows: dict[str, tuple[float, Any]] = {}
        self._msg_index: dict[str, tuple[str, str]] = {}  # message id -> (partition, blob name)
        # Leases held by this process.
        self._held_targets: dict[str, str] = {}  # target -> lease row etag
        self._target_until: dict[str, float] = {}  # target -> end of its lease
        self._leases_in_use: dict[str, int] = {}  # target -> episodes/batches running under its lease
        self._lease_idle_since: dict[str, float] = {}  # target -> monotonic end of its last episode
        # Instances whose cached sentinel is the stored one: read or written by this process while
        # it held the instance's lease without a break (no other process can have committed since).
        self._current: set[str] = set()
        # Instances this process holds the lease of -> the messages it knows are stored for them
        # and not consumed (messages.py, "the inbox"); kept only while the lease is unbroken.
        self._inbox: dict[str, dict[str, Message]] = {}
        self._inbox_building: dict[str, dict[str, Message]] = {}  # (written while its query runs)
        # Instances this process created -> (the sentinel ETag it wrote, the messages it stored for
        # them since): the inbox of their first lease here, if nothing committed meanwhile
        # (messages.py, "the inbox")
        self._inbox_seeds: dict[str, tuple[str, dict[str, Message]]] = {}
        # Instances this process holds the lease of -> the view key it last wrote (instances.py)
        self._view_written: dict[str, tuple[str, ...]] = {}
        self._held_work: dict[str, _WorkState] = {}
        self._work_state: dict[str, _WorkState] = {}
        self._attempts: dict[str, int] = {}
        self._preleased: set[str] = set()  # work items stored leased by this process, not yet claimed
        self._lazy_work: dict[str, dict[str, _LazyWork]] = {}  # instance -> item id -> (work.py)
        self._storing_work: dict[str, asyncio.Future[None]] = {}  # lazy items being stored now
        self._work_blobs: dict[str, str] = {}
        self._entity_blobs: dict[str, set[str]] = {}
        self._processed: dict[str, tuple[str, dict[str, float]]] = {}  # entity id -> (etag, dedup window)
        self._outbox_sent: set[str] = set()  # outbox rows this process dispatched and deleted
        # instance -> its last commit's outbox row, dispatched by this process but not deleted yet:
        # the next commit deletes it in its own transaction (or the lease release does)
        self._outbox_kept: dict[str, str] = {}
        # instance -> ids of messages its last committed episode consumed, to be deleted in one
        # transaction with the next activity result this process writes to the instance
        self._deferred_deletes: dict[str, set[str]] = {}
        self._renewer: asyncio.Task[None] | None = None

    def _current_sentinel(self, instance_id: str) -> _Sentinel | None:
        """The cached sentinel if it is the stored one: this process read or wrote it while holding
        the instance's lease without a break, and it is active (only a terminal instance can be
        overwritten by a start elsewhere). DTFx likewise keeps an instance's history in memory
        between episodes of the partition it owns and relies on the ETag-checked commit
        (AzureStorageOrchestrationService's extended session cache)."""
        sentinel = self._sentinels.get(instance_id)
        if (sentinel is None or instance_id not in self._current or instance_id not in self._held_targets
                or sentinel.status in TERMINAL_STATUSES):
            return None
        return sentinel

    def _not_current(self, target: str) -> None:
        """Another process may move ``target`` on from now (or did): forget what holding its
        lease let this process know."""
        self._current.discard(target)
        self._inbox.pop(target, None)
        self._view_written.pop(target, None)

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        if self._service is not None:
            return
        gate = RequestGate(self.background_requests)  # for tables and blobs together
        self._service = TableServiceClient.from_connection_string(
            self.connection_string, transport=_GatedTransport(gate), **self.client_kwargs)
        self._lean = LeanAccount(gate=gate, trust_env=bool(urllib.request.getproxies()),
                                 request_hook=self.client_kwargs.get("raw_request_hook"))
        for key, name in self.table_names.items():
            table = await self._service.create_table_if_not_exists(name)
            fast_batch = batch_codec.install(table, self.fast_batch)
            table = self._lean.client(table, self.lean_tables, transactions=fast_batch)
            self._t[key] = Tracked(table, TABLE_WRITES, self.faults, key)
        # Work items are rows of the Messages table (in their instance's partition, so that an
        # activity's result and the deletion of its work item are one transaction); a client
        # of their own only names their writes apart ("work.<method>").
        self._t["work"] = Tracked(self._t["messages"]._client, TABLE_WRITES, self.faults, "work")
        self._blob_service = BlobServiceClient.from_connection_string(
            self.connection_string, transport=_GatedTransport(gate), **self.client_kwargs)
        container = self._blob_service.get_container_client(self.container_name)
        try:
            await container.create_container()
        except ResourceExistsError:
            pass
        self._container = Tracked(container, BLOB_WRITES, self.faults, "blobs")  # type: ignore[assignment]
        await self._move_legacy_work()
        await self._repair_projections()
        await self._recover_outboxes()
        self._renewer = asyncio.create_task(self._renew_loop(), name="devhost-lease-renewal")

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewer
            self._renewer = None
        for target in list(self._held_targets):
            with contextlib.suppress(Exception):
                await self._release(target)
        for item_id, state in list(self._held_work.items()):
            with contextlib.suppress(Exception):  # let another process take it at once
                await self._t["work"].update_entity(
                    {"PartitionKey": state.partition, "RowKey": escape_key(item_id), "LeaseUntil": 0.0},
                    mode=UpdateMode.MERGE, etag=state.etag, match_condition=MatchConditions.IfNotModified)
        self._held_work.clear()
        for client in {id(c._client): c for c in self._t.values()}.values():
            await client.close()
        self._t.clear()
        if self._lean is not None:
            await self._lean.close()
            self._lean = None
        if self._blob_service is not None:
            await self._blob_service.close()
        if self._service is not None:
            await self._service.close()
        self._service = self._blob_service = self._container = None

    async def delete_task_hub(self) -> None:
        """Drop every table and the blob container of this task hub (tests, `reset`)."""
        assert self._service is not None and self._container is not None
        for name in [*self.table_names.values(), self.legacy_work_table]:
            with contextlib.suppress(ResourceNotFoundError):
                await self._service.delete_table(name)
        with contextlib.suppress(ResourceNotFoundError):
            await self._container.delete_container()

