"""Azure Storage state store (Azure Tables + Blobs; Azurite locally).

Layout (see docs/storage.md), for task hub ``<hub>``:

* ``<hub>Instances``  PartitionKey = instance id, RowKey = ""  - a query view of each instance.
* ``<hub>History``    PartitionKey = instance id, RowKey = 16 hex digits (event sequence number)
  for history rows, and RowKey = ``sentinel`` for the row that is the *authoritative* instance
  state: status, output, the visible history range and the ETag used for optimistic
  concurrency. Because it lives in the same partition as the history rows, one table
  transaction appends an episode's events and moves the instance on, or does neither.
* ``<hub>Messages``   PartitionKey = target (instance or entity id), RowKey = message id; and
  activity work items (``Kind`` = ``work``, plus lease columns) in their instance's partition.
* ``<hub>Entities``   PartitionKey = entity id ("@name@key"), RowKey = "".
* ``<hub>Leases``     PartitionKey = target, RowKey = "" - who runs the target's episode now.
* blob container ``<hub-lower>-largemessages`` - any text too large for a table property.

Keys are escaped (``%XX``) for the characters Azure Tables forbids in keys.

One module per job: ``keys`` (names, keys, connection strings), ``client`` (clients, caches,
lifecycle), ``blobs`` (large text), ``instances``, ``history`` (the episode commit), ``messages``,
``work`` (activity work items), ``leases``, ``entities``, ``outbox`` (what a commit sends),
``recovery`` (finishing a dead process's half-done steps), ``batch_codec`` (table transactions
without the ``email`` package), ``lean_tables`` + ``lean_batch`` (the SDK's requests sent without
azure-core's pipeline), ``gate`` (client requests before background work), ``tracked`` (the one
choke point of every write).
"""
from __future__ import annotations

from .blobs import BlobsMixin
from .entities import EntitiesMixin
from .history import HistoryMixin
from .instances import InstancesMixin
from .keys import (  # noqa: F401 - the store's public names
    DEV_ACCOUNT, DEV_KEY, _row_key, escape_key, normalize_connection_string, parse_connection_string,
    validate_task_hub,
)
from .leases import LeasesMixin
from .messages import MessagesMixin
from .outbox import OutboxMixin
from .recovery import RecoveryMixin
from .work import WorkMixin


class AzureStore(InstancesMixin, HistoryMixin, MessagesMixin, WorkMixin, LeasesMixin, EntitiesMixin,
                 OutboxMixin, RecoveryMixin, BlobsMixin):
    """``Store`` on Azure Tables + Blobs. Safe to share between host processes (``shared``)."""
