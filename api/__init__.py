"""HTTP routes, one module per pattern plus the generic starter (imported here so they register)."""
from . import async_http_api, counter, human_interaction, monitor, starter  # noqa: F401
