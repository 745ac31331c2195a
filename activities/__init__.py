"""Activities, one module per pattern (imported here so they register on their blueprints).

Each takes ``payload: dict``, not ``dict[str, Any]``: the Python worker refuses a parameterised
builtin generic on a binding parameter ("has invalid non-type annotation"), and one refused
function fails the whole app on Azure (``python -m devhost.worker_check`` checks it).
"""
from . import async_http_api, chaining, fan_out_fan_in, human_interaction, monitor  # noqa: F401
