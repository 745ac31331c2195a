"""Refused: an annotation only imported for type checkers; typing.get_type_hints fails on it."""
from __future__ import annotations

from typing import TYPE_CHECKING

import azure.durable_functions as df

if TYPE_CHECKING:
    from decimal import Decimal

app = df.DFApp()


@app.activity_trigger(input_name="payload")
def price(payload: Decimal) -> str:
    return str(payload)
