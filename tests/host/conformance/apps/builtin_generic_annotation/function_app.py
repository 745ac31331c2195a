"""Refused: a builtin parameterised generic on a binding parameter (issue 11: 15 activities)."""
from typing import Any

import azure.durable_functions as df

app = df.DFApp()


@app.activity_trigger(input_name="payload")
def ok_activity(payload: dict) -> dict:
    return payload


@app.activity_trigger(input_name="payload")
def validate_order(payload: dict[str, Any]) -> dict[str, Any]:
    return payload
