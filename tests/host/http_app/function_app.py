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
    response.headers.add("X-Dup", "1")
    response.headers.add("X-Dup", "2")
    return response


@app.route(route="getonly", methods=["GET"])
def getonly(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("ok")


@app.route(route="keyed", auth_level=func.AuthLevel.FUNCTION)
def keyed(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("keyed")


def named(name: str):
    def handler(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(json.dumps({"function": name, "route_params": dict(req.route_params)}),
                                 mimetype="application/json")
    handler.__name__ = name
    return handler


# (name, route, methods): registered in name order by the host, first match wins
ROUTES = [
    ("prec_param", "prec/{x}", ["GET"]), ("prec_lit", "prec/lit", ["GET"]),
    ("a_param", "prec2/{x}", ["GET"]), ("b_lit", "prec2/lit", ["GET"]),
    ("items", "items/{id:int}", ["GET"]), ("guid_route", "g/{g:guid}", ["GET"]),
    ("sized", "sized/{s:length(2,3)}/{n:range(1,10)}", ["GET"]), ("flag", "flag/{b:bool}", ["GET"]),
    ("defaults", "defaults/{x=dflt}", ["GET"]),
    ("administer", "administer", ["GET"]), ("runtime_info", "Runtime/info", ["GET"]),
    ("dup_a", "dup", ["GET", "POST"]), ("dup_b", "dup/", ["POST"]), ("dup_c", "dup", ["DELETE"]),
]
for _name, _route, _methods in ROUTES:
    app.function_name(_name)(app.route(route=_route, methods=_methods)(named(_name)))
