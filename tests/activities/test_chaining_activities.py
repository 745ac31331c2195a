from __future__ import annotations

import pytest

from activities.chaining import (
    OrderRejectedError,
    OutOfStockError,
    price_order,
    release_reservation,
    reserve_inventory,
    validate_order,
    write_receipt,
)
from app_common.settings import results_container
from app_common.validation import ValidationError
from tests.blobs import blob_names, read_json_blob


def order(order_id: str, *lines: tuple[str, int, float]) -> dict:
    return {"order_id": order_id, "items": [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines]}


def test_validate_order_normalizes_skus():
    assert validate_order(order("o-1", ("ab-1", 2, 1.5))) == order("o-1", ("AB-1", 2, 1.5))


@pytest.mark.parametrize("payload, message", [
    (order("o-1", ("A1", 1, 1), ("a1", 2, 1)), "duplicate SKU"),
    (order("o-1", ("A1", 1001, 1)), "more than 1000 units"),
])
def test_validate_order_business_rules(payload, message):
    with pytest.raises(OrderRejectedError, match=message):
        validate_order(payload)


def test_activities_reject_malformed_payloads():
    with pytest.raises(ValidationError, match="must be an integer"):
        validate_order(order("o-1", ("A1", True, 1)))
    with pytest.raises(ValidationError):
        price_order({"order_id": "o-1"})


def test_price_order_rounds_to_cents():
    priced = price_order(order("o-1", ("A1", 3, 0.1), ("B2", 1, 19.99)))
    assert [line["line_total"] for line in priced["lines"]] == [0.3, 19.99]
    assert (priced["subtotal"], priced["tax"], priced["total"]) == (20.29, 1.62, 21.91)


def test_reserve_then_receipt(blob_service, unique):
    order_id = f"o-{unique}"
    reservation = reserve_inventory(price_order(order(order_id, ("A1", 2, 5.0))))
    assert reservation["reserved_skus"] == ["A1"]
    assert read_json_blob(blob_service, results_container(), f"reservations/{order_id}/A1.json")["quantity"] == 2

    receipt = write_receipt(reservation)

    assert receipt == {"order_id": order_id, "total": 10.8, "reserved_skus": ["A1"],
                       "receipt_blob": f"{results_container()}/receipts/{order_id}.json"}
    assert read_json_blob(blob_service, results_container(), f"receipts/{order_id}.json")["total"] == 10.8


def test_reserve_fails_half_way_and_release_cleans_up_idempotently(blob_service, unique):
    order_id = f"o-{unique}"
    with pytest.raises(OutOfStockError, match="B2: 101 requested, 100 available"):
        reserve_inventory(price_order(order(order_id, ("A1", 1, 1.0), ("B2", 101, 1.0))))
    assert blob_names(blob_service, results_container(), f"reservations/{order_id}/") == [
        f"reservations/{order_id}/A1.json"]

    assert release_reservation({"order_id": order_id}) == {"order_id": order_id, "released": 1}
    assert blob_names(blob_service, results_container(), f"reservations/{order_id}/") == []
    assert release_reservation({"order_id": order_id}) == {"order_id": order_id, "released": 0}
