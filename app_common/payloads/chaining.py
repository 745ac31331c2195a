"""Chaining: an order goes validate -> price -> reserve inventory -> write receipt."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..validation import (
    SAFE_ID,
    JsonDict,
    ValidationError,
    as_object,
    check_int,
    check_number,
    check_str,
    get_int,
    get_list,
    get_number,
    get_str,
)

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
MAX_LINES = 50
MAX_UNIT_PRICE = 1_000_000_000  # keeps the pricing in Decimal cents exact (quantize fails on huge values)


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: float

    @classmethod
    def from_json(cls, data: Any, what: str = "item") -> OrderLine:
        data = as_object(data, what, ("sku", "quantity", "unit_price"))
        return cls(
            sku=check_str(data.get("sku"), f"{what}.sku", SKU, 32),
            quantity=check_int(data.get("quantity"), f"{what}.quantity", minimum=1),
            unit_price=check_number(data.get("unit_price"), f"{what}.unit_price", minimum=0,
                                    maximum=MAX_UNIT_PRICE),
        )

    def to_json(self) -> JsonDict:
        return {"sku": self.sku, "quantity": self.quantity, "unit_price": self.unit_price}


@dataclass(frozen=True)
class OrderInput:
    """Orchestrator input of ``chaining`` and input/output of ``ValidateOrder``."""

    order_id: str
    items: tuple[OrderLine, ...]

    @classmethod
    def from_json(cls, data: Any) -> OrderInput:
        data = as_object(data, "order", ("order_id", "items"))
        raw_items = get_list(data, "items", max_items=MAX_LINES)
        if not raw_items:
            raise ValidationError("'items' must not be empty")
        return cls(
            order_id=get_str(data, "order_id", pattern=SAFE_ID, max_length=64),
            items=tuple(OrderLine.from_json(item, f"items[{i}]") for i, item in enumerate(raw_items)),
        )

    def to_json(self) -> JsonDict:
        return {"order_id": self.order_id, "items": [line.to_json() for line in self.items]}


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price: float
    line_total: float

    @classmethod
    def from_json(cls, data: Any, what: str = "line") -> PricedLine:
        data = as_object(data, what, ("sku", "quantity", "unit_price", "line_total"))
        return cls(
            sku=check_str(data.get("sku"), f"{what}.sku", SKU, 32),
            quantity=check_int(data.get("quantity"), f"{what}.quantity", minimum=1),
            unit_price=check_number(data.get("unit_price"), f"{what}.unit_price", minimum=0),
            line_total=check_number(data.get("line_total"), f"{what}.line_total", minimum=0),
        )

    def to_json(self) -> JsonDict:
        return {"sku": self.sku, "quantity": self.quantity, "unit_price": self.unit_price,
                "line_total": self.line_total}


@dataclass(frozen=True)
class PricedOrder:
    """Output of ``PriceOrder``, input of ``ReserveInventory``."""

    order_id: str
    lines: tuple[PricedLine, ...]
    subtotal: float
    tax: float
    total: float

    @classmethod
    def from_json(cls, data: Any) -> PricedOrder:
        data = as_object(data, "priced order", ("order_id", "lines", "subtotal", "tax", "total"))
        return cls(
            order_id=get_str(data, "order_id", pattern=SAFE_ID, max_length=64),
            lines=tuple(PricedLine.from_json(x, f"lines[{i}]")
                        for i, x in enumerate(get_list(data, "lines", max_items=MAX_LINES))),
            subtotal=get_number(data, "subtotal", minimum=0),
            tax=get_number(data, "tax", minimum=0),
            total=get_number(data, "total", minimum=0),
        )

    def to_json(self) -> JsonDict:
        return {"order_id": self.order_id, "lines": [line.to_json() for line in self.lines],
                "subtotal": self.subtotal, "tax": self.tax, "total": self.total}


@dataclass(frozen=True)
class Reservation:
    """Output of ``ReserveInventory``, input of ``WriteReceipt``: the priced order plus what was held."""

    order: PricedOrder
    reserved_skus: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Any) -> Reservation:
        data = as_object(data, "reservation", ("order", "reserved_skus"))
        return cls(
            order=PricedOrder.from_json(data.get("order")),
            reserved_skus=tuple(check_str(s, "reserved_skus[]", SKU, 32)
                                for s in get_list(data, "reserved_skus", max_items=MAX_LINES)),
        )

    def to_json(self) -> JsonDict:
        return {"order": self.order.to_json(), "reserved_skus": list(self.reserved_skus)}


@dataclass(frozen=True)
class Receipt:
    """Output of ``WriteReceipt`` and of the ``chaining`` orchestration."""

    order_id: str
    total: float
    reserved_skus: tuple[str, ...]
    receipt_blob: str

    @classmethod
    def from_json(cls, data: Any) -> Receipt:
        data = as_object(data, "receipt", ("order_id", "total", "reserved_skus", "receipt_blob"))
        return cls(
            order_id=get_str(data, "order_id", pattern=SAFE_ID, max_length=64),
            total=get_number(data, "total", minimum=0),
            reserved_skus=tuple(check_str(s, "reserved_skus[]", SKU, 32)
                                for s in get_list(data, "reserved_skus", max_items=MAX_LINES)),
            receipt_blob=get_str(data, "receipt_blob", max_length=1024),
        )

    def to_json(self) -> JsonDict:
        return {"order_id": self.order_id, "total": self.total, "reserved_skus": list(self.reserved_skus),
                "receipt_blob": self.receipt_blob}


@dataclass(frozen=True)
class ReleaseInput:
    """Input of the ``ReleaseReservation`` compensation."""

    order_id: str

    @classmethod
    def from_json(cls, data: Any) -> ReleaseInput:
        data = as_object(data, "release", ("order_id",))
        return cls(order_id=get_str(data, "order_id", pattern=SAFE_ID, max_length=64))

    def to_json(self) -> JsonDict:
        return {"order_id": self.order_id}


@dataclass(frozen=True)
class ReleaseResult:
    order_id: str
    released: int

    @classmethod
    def from_json(cls, data: Any) -> ReleaseResult:
        data = as_object(data, "release result", ("order_id", "released"))
        return cls(order_id=get_str(data, "order_id", pattern=SAFE_ID, max_length=64),
                   released=get_int(data, "released", minimum=0))

    def to_json(self) -> JsonDict:
        return {"order_id": self.order_id, "released": self.released}
