"""The extension's HTTP API routes, matched as ``HttpApiHandler.HandleRequestAsync`` matches them.

The handler takes the path after the webhook base, trims its slashes and tries four ASP.NET
route templates in order (literal segments match in any case); the request's method then picks
the handler, and anything else is a 404 (extension v2.13, ``HttpApiHandler.cs``):

- ``orchestrators/{functionName}/{instanceId?}``: POST starts.
- ``entities/{entityName?}/{entityKey?}``: GET with a key reads, without one lists (every
  entity when there is no name either); POST and DELETE signal (DELETE the ``delete`` operation).
- ``instances/{instanceId?}/{operation?}``: without an id GET lists and DELETE purges by filter;
  with an id and no operation GET reads and DELETE purges; POST with an operation (any case)
  terminates, rewinds, restarts, suspends or resumes.
- ``instances/{instanceId}/raiseEvent/{eventName}``: POST raises.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from .routes import compile_route

_ORCHESTRATORS = compile_route("orchestrators/{functionName}/{instanceId?}")[0]
_ENTITIES = compile_route("entities/{entityName?}/{entityKey?}")[0]
_INSTANCES = compile_route("instances/{instanceId?}/{operation?}")[0]
_RAISE_EVENT = compile_route("instances/{instanceId}/raiseEvent/{eventName}")[0]
INSTANCE_OPERATIONS = ("terminate", "rewind", "restart", "suspend", "resume")
ENTITY_ACTIONS = frozenset({"read_entity", "list_entities", "signal_entity"})


@dataclass(frozen=True)
class Match:
    action: str  # a DurableApi handler: start, read_entity, list_entities, signal_entity, list_instances,
    #              purge_many, get_status, purge_one, raise_event, or one of INSTANCE_OPERATIONS
    params: dict[str, str | None]


def resolve(raw_path: str, method: str) -> Match | None:
    """The action for ``raw_path`` (still percent-encoded, after the webhook base) and ``method``,
    or None for the extension's 404."""
    path = raw_path.strip("/")
    if found := _ORCHESTRATORS.fullmatch(path):
        return Match("start", _decoded(found.groupdict())) if method == "POST" else None
    if found := _ENTITIES.fullmatch(path):
        params = _decoded(found.groupdict())
        if method == "GET":
            return Match("read_entity" if params["entityKey"] else "list_entities", params)
        return Match("signal_entity", params) if method in ("POST", "DELETE") else None
    if found := _INSTANCES.fullmatch(path):
        params = _decoded(found.groupdict())
        operation = (params.pop("operation") or "").lower()
        if params["instanceId"] is None:
            return Match({"GET": "list_instances", "DELETE": "purge_many"}[method], params) \
                if method in ("GET", "DELETE") else None
        if not operation:
            return Match({"GET": "get_status", "DELETE": "purge_one"}[method], params) \
                if method in ("GET", "DELETE") else None
        if method == "POST" and operation in INSTANCE_OPERATIONS:
            return Match(operation, params)
        # (an unknown operation falls through to the raise-event template, as in the extension)
    if found := _RAISE_EVENT.fullmatch(path):
        return Match("raise_event", _decoded(found.groupdict())) if method == "POST" else None
    return None


def _decoded(groups: dict[str, str | None]) -> dict[str, str | None]:
    return {name: None if value is None else unquote(value) for name, value in groups.items()}
