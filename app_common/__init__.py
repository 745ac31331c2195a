"""Shared by every pattern: durable names, payload dataclasses, settings, storage and HTTP helpers."""
