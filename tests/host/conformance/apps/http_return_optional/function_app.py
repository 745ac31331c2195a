"""Refused: ``Optional[HttpResponse]`` is not a type, so the return annotation is invalid."""
from typing import Optional

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="maybe")
def maybe(req: func.HttpRequest) -> Optional[func.HttpResponse]:
    return None
