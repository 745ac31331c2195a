"""Refused: ``Optional[...]`` is a Union, which the worker treats as neither a type nor a generic."""
from typing import Optional

import azure.durable_functions as df

app = df.DFApp()


@app.activity_trigger(input_name="payload")
def maybe(payload: Optional[dict]) -> None:
    pass
