"""HTTP functions whose answers the fidelity tests compare with what Azure gives."""
import json

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


def dump(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse(json.dumps({
        "route_params": dict(req.route_params), "params": dict(req.params), "headers": dict(req.headers),
        "type": type(req).__module__ + "." + type(req).__name__}), mimetype="application/json")


@app.route(route="getjson", methods=["POST"])
def getjson(req: func.HttpRequest) -> func.HttpResponse:
    try:
        return func.HttpResponse(json.dumps(req.get_json()))
    except ValueError as exc:
        return func.HttpResponse(f"{type(exc).__module__}.{type(exc).__name__}: {exc}")


@app.route(route="dump/{name}")
def dump_route(req: func.HttpRequest) -> func.HttpResponse:
    return dump(req)


@app.route(route="returns/{what}")
def returns(req: func.HttpRequest):
    what = req.route_params["what"]
    if what == "none":
        return None
    if what == "bytes":
        return b"raw"
    if what == "dict":
        return {"a": 1}
    return req.get_body().decode()


@app.route(route="mimetype")
def mimetype(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse('{"a": 1}', mimetype=req.params.get("m", "application/json"))


@app.route(route="cookies")
def cookies(req: func.HttpRequest) -> func.HttpResponse:
    response = func.HttpResponse("c")
    response.headers.add("Set-Cookie", "a=1; Path=/")
    response.headers.add("Set-Cookie", "b=2; Path=/x; HttpOnly")
    return response


@app.route(route="getonly", methods=["GET"])
def getonly(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("ok")


@app.route(route="keyed", auth_level=func.AuthLevel.FUNCTION)
def keyed(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("keyed")

