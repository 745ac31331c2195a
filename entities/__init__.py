"""Entities (imported here so they register on their blueprints)."""
from . import counter  # noqa: F401
