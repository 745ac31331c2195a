"""Refused: a return annotation must not be ``func.Out[...]``."""
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="out")
def out(req: func.HttpRequest) -> func.Out[func.HttpResponse]:
    raise NotImplementedError
