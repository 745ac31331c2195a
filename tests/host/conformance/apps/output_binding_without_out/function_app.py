"""Refused: an output binding's parameter must be annotated ``func.Out[...]``."""
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="enqueue")
@app.queue_output(arg_name="msg", queue_name="outbox", connection="AzureWebJobsStorage")
def enqueue(req: func.HttpRequest, msg: str) -> func.HttpResponse:
    return func.HttpResponse("queued")
