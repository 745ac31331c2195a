"""Entities (imported here so they register on their blueprints)."""
