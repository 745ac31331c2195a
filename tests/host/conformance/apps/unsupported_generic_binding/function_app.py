"""Refused: a binding type with no converter in the SDK only takes str or bytes."""
import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="doc")
@app.generic_input_binding(arg_name="doc", type="customStore", key="k")
def doc(req: func.HttpRequest, doc: dict) -> func.HttpResponse:
    return func.HttpResponse("x")
