"""The runtime's options and counters (``devhost/scheduler.py``)."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from .disabled import DisabledFunctions
from .faults import FaultPlan
from .payloads import PayloadPolicy


def platform_concurrency() -> int:
    """The extension's default for ``maxConcurrentActivityFunctions`` and
    ``maxConcurrentOrchestratorFunctions`` outside the Consumption plan (``func start`` included):
    10 x the processor count (``AzureStorageDurabilityProviderFactory``'s constructor,
    Azure/azure-functions-durable-extension; Consumption: 10 and 5)."""
    return 10 * (os.cpu_count() or 1)


@dataclass
class RuntimeOptions:
    # Hold an episode while the instance has activities in flight and its pending messages
    # cannot move the orchestrator (completions inside an unfinished task_all; devhost/batching.py),
    # so a fan-out's results arrive in one episode whatever the machine's load. False: run at once.
    fan_in_hold: bool = True
    # Activities running at once, and orchestration episodes + entity batches (DTFx runs entities
    # as orchestration work items) at once; host.json's extensions.durableTask settings decide.
    max_concurrent_activities: int = field(default_factory=platform_concurrency)
    max_concurrent_orchestrations: int = field(default_factory=platform_concurrency)
    # Operations an entity batch takes at most; the rest follow in the next batch (host.json's
    # maxEntityOperationBatchSize; the extension's default outside the Consumption plan is 5000,
    # AzureStorageDurabilityProviderFactory; DurableTaskExtension splits batches at it).
    max_entity_operation_batch_size: int = 5000
    # An activity or orchestration whose worker keeps dying is failed after this many attempts.
    poison_attempts: int = 5
    # Delay before a crashed activity's work item is picked up again (a lease expiring).
    crash_retry_delay: float = 0.001
    faults: FaultPlan | None = None
    # Parse the host's own timestamp format fast in the SDK's replay (devhost/fast_timestamps.py);
    # None follows DEVHOST_FAST_TIMESTAMPS (default on). Same results as dateutil either way.
    fast_timestamps: bool | None = None
    # Exact patches for per-call waste in the SDK's replay (devhost/sdk_patches/); None follows
    # DEVHOST_SDK_PATCHES (default on). The SDK's output is the same either way.
    sdk_patches: bool | None = None
    # Payload caps of the emulated backend (host.json storageProvider.type; devhost/payloads.py).
    payloads: PayloadPolicy = field(default_factory=PayloadPolicy)
    # Functions disabled with AzureWebJobs.<name>.Disabled (devhost/disabled.py).
    disabled: DisabledFunctions = field(default_factory=DisabledFunctions)


@dataclass
class RuntimeStats:
    episodes: int = 0
    sdk_seconds: float = 0.0
    episode_seconds: float = 0.0
    events_replayed: int = 0
    activities: int = 0
    entity_batches: int = 0
    episodes_by_instance: Counter = field(default_factory=Counter)
