"""Orchestrators, one module per pattern (imported here so they register on their blueprints)."""
from . import chaining  # noqa: F401
