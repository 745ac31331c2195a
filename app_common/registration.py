"""Decorators that register a function on a blueprint under its durable name and hand back the
plain function, so tests can call activities directly."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import azure.durable_functions as df
import azure.functions as func

F = TypeVar("F", bound=Callable[..., Any])


def activity(bp: df.Blueprint, name: str) -> Callable[[F], F]:
    """``@activity(bp, names.X)`` on ``def fn(payload: dict) -> dict``: Functions name = durable name."""
    def register(fn: F) -> F:
        bp.function_name(name)(bp.activity_trigger(input_name="payload", activity=name)(fn))
        return fn

    return register


def orchestrator(bp: df.Blueprint, name: str) -> Callable[[F], F]:
    """``@orchestrator(bp, names.X)`` on a generator ``def fn(context)``."""
    def register(fn: F) -> F:
        bp.function_name(name)(bp.orchestration_trigger(context_name="context", orchestration=name)(fn))
        return fn

    return register


def entity(bp: df.Blueprint, name: str) -> Callable[[F], F]:
    def register(fn: F) -> F:
        bp.function_name(name)(bp.entity_trigger(context_name="context", entity_name=name)(fn))
        return fn

    return register


def client_route(bp: df.Blueprint, name: str, route: str, methods: list[str]) -> Callable[[F], F]:
    """An HTTP route (auth level FUNCTION) with a durable client bound to the keyword ``client``.
    The function must be ``async def`` (the SDK's client middleware awaits it)."""
    def register(fn: F) -> F:
        with_client = bp.durable_client_input(client_name="client")(fn)
        bp.function_name(name)(bp.route(route=route, methods=methods, auth_level=func.AuthLevel.FUNCTION)(with_client))
        return fn

    return register
