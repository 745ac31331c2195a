"""Refused: ``func.Out[...]`` on an input (trigger) binding."""
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="wrong")
def wrong(req: func.Out[str]) -> func.HttpResponse:
    return func.HttpResponse("x")
