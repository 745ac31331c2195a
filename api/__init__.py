"""HTTP routes, one module per pattern plus the generic starter (imported here so they register)."""
from . import starter  # noqa: F401
