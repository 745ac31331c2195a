"""State stores for the local host."""
from .base import (  # noqa: F401
    ACTIVE_STATUSES, CANCELED, COMPLETED, CONTINUED_AS_NEW, FAILED, PENDING, RUNNING, SUSPENDED,
    TERMINAL_STATUSES, TERMINATED, ConflictError, EntityRecord, EpisodeCommit, InstanceQuery,
    InstanceRecord, Message, ParentRef, Store, WorkItem,
)
from .memory import MemoryStore  # noqa: F401
