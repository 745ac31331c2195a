"""Call app functions exactly as the Python worker does (spec 10.3).

Parameters are bound by binding name, trigger payloads go through the library's own
converters, ``async def`` functions are awaited on the loop and plain functions run in a
thread pool.
"""
from __future__ import annotations

import asyncio
import json
import os
import threading
import traceback
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import azure.functions as func
from azure.functions import _abc as func_abc
from azure.functions import meta
from azure.functions._durable_functions import EntityContext, OrchestrationContext
from azure.functions.durable_functions import ActivityTriggerConverter

from .app_index import FunctionInfo
from .function_pool import FunctionPool


class InvocationContext(func_abc.Context):
    """A concrete ``func.Context`` (the worker has its own; the library only has the ABC)."""

    def __init__(self, function_name: str, function_directory: str) -> None:
        self._invocation_id = str(uuid.uuid4())
        self._function_name = function_name
        self._function_directory = function_directory
        self._tls = threading.local()

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> Any:
        return self._tls

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return self._function_directory

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None


@dataclass
class ActivityOutcome:
    ok: bool
    result: str | None = None  # JSON text (TaskCompleted.Result)
    reason: str | None = None  # TaskFailed.Reason
    details: str | None = None


def _thread_count() -> int:
    configured = os.environ.get("PYTHON_THREADPOOL_THREAD_COUNT")
    if configured and configured.isdigit() and int(configured) > 0:
        return int(configured)
    return min(32, (os.cpu_count() or 1) + 4)  # the worker's default for Python 3.9+


class Invoker:
    def __init__(self, app_dir: str) -> None:
        self.app_dir = app_dir
        self._pool = FunctionPool(max_workers=_thread_count(), thread_name_prefix="devhost-fn")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _call(self, info: FunctionInfo, kwargs: dict[str, Any]) -> Any:
        if info.wants_context:
            kwargs["context"] = InvocationContext(info.name, self.app_dir)
        if info.is_async:
            return await info.fn(**kwargs)
        return await run_in_pool(self._pool, info.fn, kwargs)

    # -- durable triggers ------------------------------------------------------
    def orchestrator(self, info: FunctionInfo, context_json: str) -> str:
        return call_orchestrator(info, context_json)

    def entity(self, info: FunctionInfo, context_json: str) -> str:
        return info.fn(context=EntityContext(context_json))

    async def activity(self, info: FunctionInfo, input_text: str | None) -> ActivityOutcome:
        datum = meta.Datum(type="json", value=input_text if input_text is not None else "null")
        try:
            value = ActivityTriggerConverter.decode(datum, trigger_metadata=None)
            result = await self._call(info, {info.trigger_param: value})
            encoded = ActivityTriggerConverter.encode(result, expected_type=None)
        except Exception as exc:  # the activity's own failure becomes TaskFailed
            return activity_failure(info.durable_name, exc)
        return ActivityOutcome(ok=True, result=encoded.value)

    # -- HTTP --------------------------------------------------------------------
    async def http(self, info: FunctionInfo, request: func.HttpRequest,
                   client_binding_json: str | None) -> func.HttpResponse | str:
        kwargs: dict[str, Any] = {info.trigger_param: request}
        if info.client_param:
            kwargs[info.client_param] = client_binding_json
        result = await self._call(info, kwargs)
        return to_http_response(result)

    async def timer(self, info: FunctionInfo, timer_info: dict[str, Any]) -> None:
        """``timer_info`` is the extension's TimerInfo as the host serializes it (JSON:
        IsPastDue, Schedule, ScheduleStatus), decoded by the worker's TimerRequestConverter."""
        from azure.functions.timer import TimerRequestConverter

        datum = meta.Datum(type="json", value=json.dumps(timer_info))
        request = TimerRequestConverter.decode(datum, trigger_metadata=None)
        await self._call(info, {info.trigger_param: request})


async def run_in_pool(pool: FunctionPool, fn: Any, kwargs: dict[str, Any]) -> Any:
    """``await loop.run_in_executor(pool, lambda: fn(**kwargs))`` with less in between.

    The function runs on a pool thread as the worker runs sync functions, and its result or
    exception comes back to the awaiting task; cancelling the await cancels a call that has not
    started, as ``run_in_executor`` does. What is left out is the ``concurrent.futures.Future``
    (chained to an asyncio one by callbacks): the pool thread settles the asyncio future itself
    through ``call_soon_threadsafe`` (``function_pool.py``).
    """
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def run() -> Callable[[], None]:
        try:
            value, error = fn(**kwargs), None
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task, like run_in_executor
            value, error = None, exc
        return lambda: _hand_back(loop, future, value, error)

    work = pool.submit(run)
    try:
        return await future
    except asyncio.CancelledError:
        work.cancel()
        raise


def _hand_back(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], value: Any,
               error: BaseException | None) -> None:
    try:
        loop.call_soon_threadsafe(_settle, future, value, error)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        pass


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # cancelled meanwhile
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


def call_orchestrator(info: FunctionInfo, context_json: str) -> str:
    """Run one orchestrator episode on the calling thread; may raise (spec 4.3)."""
    return info.fn(context=OrchestrationContext(context_json))


def activity_failure(name: str, exc: BaseException) -> ActivityOutcome:
    # The worker reports "<Type>: <message>"; the extension prefixes the function name
    # (spec 4.1). Details carry the Python traceback as the worker's stack trace.
    message = f"{type(exc).__name__}: {exc}"
    stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    import json

    return ActivityOutcome(
        ok=False,
        reason=f"Activity function '{name}' failed: {message}",
        details=json.dumps({"Message": message, "StackTrace": stack}),
    )


def to_http_response(result: Any) -> func.HttpResponse | str:
    """The worker's HttpResponseConverter.encode takes a str or an HttpResponse and nothing else
    (azure/functions/http.py ~80-131); anything else, None and bytes included, raises and the
    invocation fails (azure_functions_worker/bindings/meta.py get_datum ~206-213): a 500."""
    if isinstance(result, (func.HttpResponse, str)):
        return result
    raise TypeError(f'unable to encode outgoing TypedData: unsupported type "http" for Python type '
                    f'"{type(result).__name__}"')


async def reset_sdk_client_session() -> None:
    """Drop the SDK's process-wide aiohttp session and its lock.

    The SDK keeps one ``ClientSession`` for the life of the worker process, bound to the
    worker's single event loop. A host started and stopped several times in one process (tests)
    gets a new loop each time, so the session is closed with the host that created it.
    """
    from azure.durable_functions.models.utils import http_utils

    session = http_utils._client_session
    http_utils._client_session = None
    http_utils._session_lock = asyncio.Lock()
    if session is not None and not session.closed:
        try:
            await session.close()
        except RuntimeError:  # created on a loop that is already closed
            pass
