"""Fan-out/fan-in: one ProcessBlob per listed blob, all in parallel, then one aggregate."""
from __future__ import annotations

from collections.abc import Generator
from typing import Any

import azure.durable_functions as df

from app_common import blueprints, names
from app_common.payloads.fan_out_fan_in import (
    BlobListing,
    BlobStats,
    FanOutInput,
    FanOutSummary,
    ProcessBlobInput,
    SummaryInput,
)
from app_common.registration import orchestrator
from app_common.validation import JsonDict


@orchestrator(blueprints.fan_out_fan_in, names.FAN_OUT_FAN_IN)
def fan_out_fan_in(context: df.DurableOrchestrationContext) -> Generator[Any, Any, JsonDict]:
    request = FanOutInput.from_json(context.get_input())
    listing = BlobListing.from_json((yield context.call_activity(names.LIST_BLOBS, request.to_json())))
    tasks = [context.call_activity(names.PROCESS_BLOB, ProcessBlobInput(listing.container, name).to_json())
             for name in listing.names]
    results = (yield context.task_all(tasks)) if tasks else []
    summary_input = SummaryInput(context.instance_id, listing.container, request.prefix,
                                 tuple(BlobStats.from_json(r) for r in results))
    summary = yield context.call_activity(names.WRITE_SUMMARY, summary_input.to_json())
    return FanOutSummary.from_json(summary).to_json()
