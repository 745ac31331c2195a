"""Chaining: an order goes validate -> price -> reserve inventory -> write receipt."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..validation import SAFE_ID
from .base import Int, Payload, Str, number

MAX_LINES = 50
MAX_UNIT_PRICE = 1_000_000_000  # keeps the pricing in Decimal cents exact (quantize fails on huge values)
OrderId = Annotated[Str, Field(max_length=64, pattern=SAFE_ID.pattern)]
Sku = Annotated[Str, Field(max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")]
Quantity = Annotated[Int, Field(ge=1)]
UnitPrice = number(ge=0, le=MAX_UNIT_PRICE)
Amount = number(ge=0)
BlobPath = Annotated[Str, Field(max_length=1024)]


class OrderLine(Payload):
    sku: Sku
    quantity: Quantity
    unit_price: UnitPrice


class OrderInput(Payload):
    """Orchestrator input of ``chaining`` and input/output of ``ValidateOrder``."""

    order_id: OrderId
    items: Annotated[list[OrderLine], Field(min_length=1, max_length=MAX_LINES)]


class PricedLine(Payload):
    sku: Sku
    quantity: Quantity
    unit_price: Amount
    line_total: Amount


class PricedOrder(Payload):
    """Output of ``PriceOrder``, input of ``ReserveInventory``."""

    order_id: OrderId
    lines: Annotated[list[PricedLine], Field(max_length=MAX_LINES)]
    subtotal: Amount
    tax: Amount
    total: Amount


class Reservation(Payload):
    """Output of ``ReserveInventory``, input of ``WriteReceipt``: the priced order plus what was held."""

    order: PricedOrder
    reserved_skus: Annotated[list[Sku], Field(max_length=MAX_LINES)]


class Receipt(Payload):
    """Output of ``WriteReceipt`` and of the ``chaining`` orchestration."""

    order_id: OrderId
    total: Amount
    reserved_skus: Annotated[list[Sku], Field(max_length=MAX_LINES)]
    receipt_blob: BlobPath


class ReleaseInput(Payload):
    """Input of the ``ReleaseReservation`` compensation."""

    order_id: OrderId


class ReleaseResult(Payload):
    order_id: OrderId
    released: Annotated[Int, Field(ge=0)]
