"""One declaration per payload, per pattern (``base.py``: pydantic v2 dataclasses, strict types).
Across durable boundaries payloads travel as plain JSON dicts: ``to_json()`` on the way out,
``from_json()`` (validation) on the way in."""
from .. import names
from .async_http_api import JobInput
from .chaining import OrderInput
from .counter import CounterWorkflowInput
from .fan_out_fan_in import FanOutInput
from .human_interaction import ApprovalStartRequest

# What POST /api/orchestrators/{functionName} starts, and the body it validates for each.
STARTABLE = {
    names.CHAINING: OrderInput,
    names.FAN_OUT_FAN_IN: FanOutInput,
    names.ASYNC_JOB: JobInput,
    names.APPROVAL_WORKFLOW: ApprovalStartRequest,
    names.COUNTER_WORKFLOW: CounterWorkflowInput,
}
