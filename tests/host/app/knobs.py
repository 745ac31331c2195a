"""Mutable switches the host tests flip between episodes (the app reads them, tests set them)."""
FLAKY_FAILURES: dict[str, int] = {}
FLAKY_CALLS: dict[str, int] = {}
SWITCHABLE_ACTIVITY = "hello"
