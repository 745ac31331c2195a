"""Count the Azure store's real storage requests, by operation and by the store method that
issued them.

``RequestCounter.install(store)`` (before ``store.open()``) passes ``raw_request_hook`` to the
store's table and blob service clients (an azure-core ``CustomHookPolicy``: it sees every HTTP
request the SDK sends, retries included; the store's lean table client calls it for each request
it sends itself) and wraps the store's methods so that a request is
charged to the outermost store method it happened in (a context variable, so requests of tasks
that method gathered are charged to it too). Real requests to Azurite; nothing is mocked.
"""
from __future__ import annotations

import contextvars
import functools
import re
import sys
from collections import Counter
from typing import Any
from urllib.parse import unquote, urlsplit

_METHOD: contextvars.ContextVar[str | None] = contextvars.ContextVar("store_method", default=None)

# Store methods a request is charged to (the Store interface plus the lease internals, since
# ``lease()`` returns a context manager whose requests happen in ``_claim``/``_release``).
STORE_METHODS = (
    "create_instance", "get_instance", "query_instances", "get_history", "commit_episode", "purge_instance",
    "send_messages", "pending_messages", "messages_for", "delete_messages", "pending_work", "complete_work",
    "record_work_attempt", "claim_work", "get_entity", "list_entities", "commit_entity_batch",
    "instance_for_episode", "_claim", "_release", "_release_idle", "_renew_target", "_renew_work",
)
_ENTITY_PATH = re.compile(r"^/[^/]+/(?P<table>[A-Za-z0-9]+)(?P<keys>\(.*\))?$")


def classify(method: str, url: str, headers: Any, tables: dict[str, str]) -> str:
    """A short name for one storage request, e.g. ``leases insert`` or ``history batch``
    (``tables``: table name -> the store's short name for it)."""
    parts = urlsplit(url)
    path, query = unquote(parts.path), parts.query
    if ":10000" in parts.netloc or ".blob." in parts.netloc:
        if "comp=list" in query:
            return "blob list"
        if "restype=container" in query:
            return f"container {method.lower()}"
        return {"GET": "blob get", "PUT": "blob put", "DELETE": "blob delete", "HEAD": "blob props"}.get(
            method, f"blob {method.lower()}")
    if path.endswith("/$batch"):
        return "table batch"
    match = _ENTITY_PATH.match(path)
    table = match.group("table") if match else path
    if table == "Tables":
        return "create table"
    table = tables.get(table, table)
    keyed = bool(match and match.group("keys") and match.group("keys") != "()")
    conditional = "If-Match" in headers
    if method == "GET":
        op = "get" if keyed else "query"
    elif method == "POST":
        op = "insert"
    elif method == "PUT":
        op = "update" if conditional else "upsert"
    elif method in ("MERGE", "PATCH"):
        op = "merge" if conditional else "upsert-merge"
    elif method == "DELETE":
        op = "delete"
    else:
        op = method.lower()
    return f"{table} {op}"


class RequestCounter:
    """Tally of requests: ``by_op[operation]``, ``by_method[store method]`` and both combined."""

    def __init__(self) -> None:
        self.by_op: Counter[str] = Counter()
        self.by_method: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, str]] = Counter()
        self.tables: dict[str, str] = {}

    @property
    def total(self) -> int:
        return sum(self.by_op.values())

    def reset(self) -> None:
        self.by_op.clear()
        self.by_method.clear()
        self.pairs.clear()

    def hook(self, request: Any) -> None:
        http = request.http_request
        op = classify(http.method, http.url, http.headers, self.tables)
        if op == "table batch":  # name the table from the batch's first sub-request
            text = str(http.body or "") + "".join(str(r.url) for r in (getattr(http, "multipart_mixed_info", None)
                                                                       or [[]])[0])
            found = [short for name, short in self.tables.items() if f"/{name}(" in text]
            op = f"{found[0]} batch" if found else op
        method = _METHOD.get() or "(other)"
        self.by_op[op] += 1
        self.by_method[method] += 1
        self.pairs[(method, op)] += 1

    def install(self, store: Any) -> None:
        """Count ``store``'s requests from its next ``open()`` on (call before it)."""
        self.tables = {name: short for short, name in store.table_names.items()}
        store.client_kwargs = {**getattr(store, "client_kwargs", {}), "raw_request_hook": self.hook}
        for name in STORE_METHODS:
            original = getattr(store, name, None)
            if original is not None:
                setattr(store, name, _charged(name, original))

    def report(self, per: int = 1, indent: str = "    ") -> list[str]:
        """Lines: the total per unit, then per store method with its operations."""
        lines = [f"{indent}total {self.total / per:.1f}"]
        for method, count in self.by_method.most_common():
            ops = ", ".join(f"{op} {n / per:.1f}" for (m, op), n in self.pairs.most_common() if m == method)
            lines.append(f"{indent}  {method:<24} {count / per:5.1f}  ({ops})")
        return lines


def _charged(name: str, original: Any) -> Any:
    @functools.wraps(original)
    async def call(*args: Any, **kwargs: Any) -> Any:
        if _METHOD.get() is not None:
            return await original(*args, **kwargs)
        label = name
        if name == "get_instance":  # the scheduler's read before an episode, or a status read
            label += " (episode)" if sys._getframe(1).f_code.co_filename.endswith("scheduler.py") else " (status)"
        token = _METHOD.set(label)
        try:
            return await original(*args, **kwargs)
        finally:
            _METHOD.reset(token)

    return call
