"""Every orchestrator, activity, entity and event name, imported by app code and tests alike.

Orchestrator names are part of the HTTP contract (``POST /api/orchestrators/{functionName}``).
Always pass these constants to ``call_activity``: given a function object the SDK would use its
Python ``__name__`` instead of the registered name.
"""
from typing import Final

# Orchestrators
CHAINING: Final = "chaining"
FAN_OUT_FAN_IN: Final = "fan_out_fan_in"
ASYNC_JOB: Final = "async_job"
MONITOR_JOB_STATUS: Final = "monitor_job_status"
APPROVAL_WORKFLOW: Final = "approval_workflow"
COUNTER_WORKFLOW: Final = "counter_workflow"

ORCHESTRATORS: Final = frozenset(
    {CHAINING, FAN_OUT_FAN_IN, ASYNC_JOB, MONITOR_JOB_STATUS, APPROVAL_WORKFLOW, COUNTER_WORKFLOW}
)

# Activities: chaining
VALIDATE_ORDER: Final = "ValidateOrder"
PRICE_ORDER: Final = "PriceOrder"
RESERVE_INVENTORY: Final = "ReserveInventory"
WRITE_RECEIPT: Final = "WriteReceipt"
RELEASE_RESERVATION: Final = "ReleaseReservation"

# Activities: fan-out/fan-in
LIST_BLOBS: Final = "ListBlobs"
PROCESS_BLOB: Final = "ProcessBlob"
WRITE_SUMMARY: Final = "WriteSummary"

# Activities: async HTTP API
RUN_JOB: Final = "RunJob"
PUBLISH_JOB_STATUS: Final = "PublishJobStatus"

# Activities: monitor
CHECK_JOB_STATUS: Final = "CheckJobStatus"
SEND_ALERT: Final = "SendAlert"

# Activities: human interaction
REQUEST_APPROVAL: Final = "RequestApproval"
PROCESS_APPROVAL: Final = "ProcessApproval"
ESCALATE: Final = "Escalate"

# Entities and their operations
COUNTER: Final = "Counter"
COUNTER_ADD: Final = "add"
COUNTER_RESET: Final = "reset"
COUNTER_GET: Final = "get"
COUNTER_DELETE: Final = "delete"

# External events
APPROVAL_EVENT: Final = "ApprovalEvent"
