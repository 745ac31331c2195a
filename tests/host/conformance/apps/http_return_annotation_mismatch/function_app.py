"""Refused: an HTTP function's return annotation must be HttpResponse or str."""
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="data")
def data(req: func.HttpRequest) -> dict:
    return {"ok": True}
