"""Valid: a ``typing`` generic (``typing.Dict[...]``) passes the worker's is_generic_type check,
unlike the builtin ``dict[...]``."""
import typing

import azure.durable_functions as df

app = df.DFApp()


@app.activity_trigger(input_name="payload")
def greet(payload: typing.Dict[str, typing.Any]) -> typing.Dict[str, typing.Any]:
    return {"greeting": payload.get("name")}
