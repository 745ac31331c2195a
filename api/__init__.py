"""HTTP routes, one module per pattern plus the generic starter (imported here so they register)."""
from . import async_http_api, monitor, starter  # noqa: F401
