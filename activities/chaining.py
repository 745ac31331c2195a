"""Chaining activities: ValidateOrder -> PriceOrder -> ReserveInventory -> WriteReceipt, and the
ReleaseReservation compensation. Reservations and receipts are blobs in RESULTS_CONTAINER."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from app_common import blueprints, names, settings, storage
from app_common.payloads.chaining import (
    OrderInput,
    OrderLine,
    PricedLine,
    PricedOrder,
    Receipt,
    ReleaseInput,
    ReleaseResult,
    Reservation,
)
from app_common.registration import activity
from app_common.validation import JsonDict

bp = blueprints.chaining

MAX_QUANTITY_PER_LINE = 1000
MAX_ORDER_TOTAL = Decimal(1000000)
TAX_RATE = Decimal("0.08")
# The demo warehouse holds this many units of every SKU: a line asking for more fails at
# ReserveInventory, which is how the compensation path is exercised deterministically.
STOCK_PER_SKU = 100
CENT = Decimal("0.01")


class OrderRejectedError(ValueError):
    pass


class OutOfStockError(RuntimeError):
    pass


def reservation_prefix(order_id: str) -> str:
    return f"reservations/{order_id}/"


def receipt_name(order_id: str) -> str:
    return f"receipts/{order_id}.json"


def _money(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


@activity(bp, names.VALIDATE_ORDER)
def validate_order(payload: dict) -> JsonDict:
    """Business rules on a well-formed order; returns it with SKUs normalized to upper case."""
    order = OrderInput.from_json(payload)
    skus = [line.sku.upper() for line in order.items]
    duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
    if duplicates:
        raise OrderRejectedError(f"order {order.order_id}: duplicate SKU(s) {', '.join(duplicates)}")
    too_many = [line.sku for line in order.items if line.quantity > MAX_QUANTITY_PER_LINE]
    if too_many:
        raise OrderRejectedError(f"order {order.order_id}: more than {MAX_QUANTITY_PER_LINE} units of "
                                 f"{', '.join(too_many)}")
    normalized = OrderInput(order.order_id, tuple(
        OrderLine(line.sku.upper(), line.quantity, line.unit_price) for line in order.items))
    return normalized.to_json()


@activity(bp, names.PRICE_ORDER)
def price_order(payload: dict) -> JsonDict:
    order = OrderInput.from_json(payload)
    lines = []
    subtotal = Decimal(0)
    for line in order.items:
        line_total = Decimal(str(line.unit_price)) * line.quantity
        subtotal += line_total
        lines.append(PricedLine(line.sku, line.quantity, line.unit_price, _money(line_total)))
    tax = (subtotal * TAX_RATE).quantize(CENT, rounding=ROUND_HALF_UP)
    total = subtotal + tax
    if total > MAX_ORDER_TOTAL:
        raise OrderRejectedError(f"order {order.order_id}: total {total} exceeds {MAX_ORDER_TOTAL}")
    return PricedOrder(order.order_id, tuple(lines), _money(subtotal), _money(tax), _money(total)).to_json()


@activity(bp, names.RESERVE_INVENTORY)
def reserve_inventory(payload: dict) -> JsonDict:
    """Holds stock line by line (one blob per line); may fail half-way, see ReleaseReservation."""
    order = PricedOrder.from_json(payload)
    container = settings.results_container()
    reserved = []
    for line in order.lines:
        if line.quantity > STOCK_PER_SKU:
            raise OutOfStockError(f"{line.sku}: {line.quantity} requested, {STOCK_PER_SKU} available")
        storage.upload_json(container, f"{reservation_prefix(order.order_id)}{line.sku}.json",
                            {"order_id": order.order_id, "sku": line.sku, "quantity": line.quantity})
        reserved.append(line.sku)
    return Reservation(order, tuple(reserved)).to_json()


@activity(bp, names.WRITE_RECEIPT)
def write_receipt(payload: dict) -> JsonDict:
    reservation = Reservation.from_json(payload)
    order = reservation.order
    container = settings.results_container()
    name = receipt_name(order.order_id)
    storage.upload_json(container, name, {**order.to_json(), "reserved_skus": list(reservation.reserved_skus)})
    return Receipt(order.order_id, order.total, reservation.reserved_skus, f"{container}/{name}").to_json()


@activity(bp, names.RELEASE_RESERVATION)
def release_reservation(payload: dict) -> JsonDict:
    """Compensation: deletes every reservation blob of the order (idempotent)."""
    request = ReleaseInput.from_json(payload)
    released = storage.delete_blobs(settings.results_container(), reservation_prefix(request.order_id))
    return ReleaseResult(request.order_id, released).to_json()
