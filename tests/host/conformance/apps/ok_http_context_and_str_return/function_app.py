"""Valid: an unbound ``context: func.Context`` parameter and a ``str`` return for the HTTP output."""
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="ping")
def ping(req: func.HttpRequest, context: func.Context) -> str:
    return context.function_name
