"""Refused: an HTTP trigger parameter annotated with something that is not an HttpRequest."""
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="body")
def body(req: dict) -> func.HttpResponse:
    return func.HttpResponse("x")
