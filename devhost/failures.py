"""How a failed orchestration's reason and details read, as the extension's shims write them."""
from __future__ import annotations

import traceback

from .app_index import AppIndex
from .disabled import invalid_function_message
from .shim import ShimError, UnknownFunctionError


def shim_error_text(index: AppIndex, error: ShimError) -> str:
    """What the extension says of a call it refused or of non-determinism."""
    if isinstance(error, UnknownFunctionError):
        return invalid_function_message(index, error.kind, error.name)
    return str(error)


def failure_reason_and_details(name: str, thrown: str | None, error: str | None,
                               raised: Exception | None) -> tuple[str, str | None]:
    """Reason and details of a failed orchestration: ``thrown`` by the extension while it replays
    the actions, else the SDK's ``error`` (``raised``: the exception the SDK's handle raised)."""
    if thrown is not None:
        # TaskOrchestrationShim.InvokeUserCodeAndHandleResults (139-207) wraps it in "Orchestrator
        # function ... failed" when the function returned, but lets it out bare when the function
        # had raised (that catch handles only OrchestrationFailureException).
        return (thrown if raised is not None else f"Orchestrator function '{name}' failed: {thrown}"), None
    # OutOfProcOrchestrationShim.ScheduleDurableTaskEvents (85-90): the stack trace there is the
    # .NET one of the failed invocation; the host gives the Python traceback of the user's code.
    cause = (raised.__cause__ or raised) if raised is not None else None
    stack = "".join(traceback.format_tb(cause.__traceback__)) if cause is not None else ""
    return f"Orchestrator function '{name}' failed: {error}", f"Message: {error}, StackTrace: {stack}"
