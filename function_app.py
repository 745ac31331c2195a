"""The function app: one DFApp, one Blueprint per pattern (see docs/patterns.md)."""
import azure.durable_functions as df
import azure.functions as func

import activities  # noqa: F401  (importing the packages registers their functions on the blueprints)
import api  # noqa: F401
import entities  # noqa: F401
import orchestrators  # noqa: F401
from app_common import blueprints

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
for blueprint in blueprints.ALL:
    app.register_functions(blueprint)
