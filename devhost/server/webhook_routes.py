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

from .route_template import RouteTemplate

_ORCHESTRATORS = RouteTemplate.parse("orchestrators/{functionName}/{instanceId?}")
_ENTITIES = RouteTemplate.parse("entities/{entityName?}/{entityKey?}")
_INSTANCES = RouteTemplate.parse("instances/{instanceId?}/{operation?}")
_RAISE_EVENT = RouteTemplate.parse("instances/{instanceId}/raiseEvent/{eventName}")
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
    if (params := _match(_ORCHESTRATORS, path)) is not None:
        return Match("start", params) if method == "POST" else None
    if (params := _match(_ENTITIES, path)) is not None:
        if method == "GET":
            return Match("read_entity" if params["entityKey"] else "list_entities", params)
        return Match("signal_entity", params) if method in ("POST", "DELETE") else None
    if (params := _match(_INSTANCES, path)) is not None:
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
    if (params := _match(_RAISE_EVENT, path)) is not None:
        return Match("raise_event", params) if method == "POST" else None
    return None


def _match(template: RouteTemplate, path: str) -> dict[str, str | None] | None:
    """Every parameter of ``template`` (None when absent), each value percent-decoded once."""
    values = template.match(path)
    if values is None:
        return None
    return {name: unquote(values[name]) if name in values else None for name in template.parameters}
