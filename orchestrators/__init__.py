"""Orchestrators, one module per pattern (imported here so they register on their blueprints)."""
from . import async_http_api, chaining, counter, fan_out_fan_in, human_interaction, monitor  # noqa: F401
