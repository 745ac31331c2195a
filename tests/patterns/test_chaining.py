"""Chaining: validate -> price -> reserve -> receipt, and the compensation that releases stock."""
from __future__ import annotations

from app_common import names
from app_common.settings import results_container
from tests.blobs import blob_names, read_json_blob

from .conftest import all_instances, post_json

START = f"/api/orchestrators/{names.CHAINING}"


def order(order_id: str, *lines: tuple[str, int, float]) -> dict:
    return {"order_id": order_id,
            "items": [{"sku": sku, "quantity": q, "unit_price": p} for sku, q, p in lines]}


async def test_order_runs_through_all_four_steps(env, blob_service, unique):
    order_id = f"o-{unique}"
    status, body, headers = await post_json(env, START, order(order_id, ("a1", 2, 3.5), ("B2", 1, 10)))
    assert status == 202
    assert body["statusQueryGetUri"] and headers["Location"] == body["statusQueryGetUri"]

    result = await env.wait(body["id"])

    assert result["runtimeStatus"] == "Completed", result
    receipt_blob = f"receipts/{order_id}.json"
    assert result["output"] == {"order_id": order_id, "total": 18.36, "reserved_skus": ["A1", "B2"],
                                "receipt_blob": f"{results_container()}/{receipt_blob}"}
    receipt = read_json_blob(blob_service, results_container(), receipt_blob)
    assert receipt["subtotal"] == 17.0 and receipt["tax"] == 1.36 and receipt["total"] == 18.36
    assert [line["line_total"] for line in receipt["lines"]] == [7.0, 10.0]
    assert sorted(blob_names(blob_service, results_container(), f"reservations/{order_id}/")) == [
        f"reservations/{order_id}/A1.json", f"reservations/{order_id}/B2.json"]


async def test_out_of_stock_at_step_three_releases_the_reservation(env, blob_service, unique):
    order_id = f"o-{unique}"
    # A1 is reserved first, then B2 exceeds the demo stock of 100 units.
    instance_id = await env.start(names.CHAINING, order(order_id, ("A1", 2, 1.0), ("B2", 500, 1.0)))

    result = await env.wait(instance_id)

    assert result["runtimeStatus"] == "Failed"
    assert "reservation released" in result["output"] and "B2: 500 requested" in result["output"]
    assert "Traceback" not in result["output"]
    assert blob_names(blob_service, results_container(), f"reservations/{order_id}/") == []
    assert blob_names(blob_service, results_container(), f"receipts/{order_id}") == []
    history = (await env.status(instance_id, show_history=True))["historyEvents"]
    called = [e.get("FunctionName") for e in history if e["EventType"] in ("TaskCompleted", "TaskFailed")]
    assert called == [names.VALIDATE_ORDER, names.PRICE_ORDER, names.RESERVE_INVENTORY, names.RELEASE_RESERVATION]


async def test_business_rule_failure_stops_before_any_reservation(env, blob_service, unique):
    order_id = f"o-{unique}"
    instance_id = await env.start(names.CHAINING, order(order_id, ("A1", 1, 1.0), ("a1", 1, 1.0)))

    result = await env.wait(instance_id)

    assert result["runtimeStatus"] == "Failed"
    assert "duplicate SKU(s) A1" in result["output"]
    history = (await env.status(instance_id, show_history=True))["historyEvents"]
    assert [e.get("FunctionName") for e in history if e["EventType"] in ("TaskCompleted", "TaskFailed")] == [
        names.VALIDATE_ORDER]


async def test_malformed_orders_are_rejected_with_400_and_start_nothing(env):
    bad_bodies = [
        {"order_id": "o-1"},  # missing items
        {"order_id": "o-1", "items": []},
        {"order_id": "o-1", "items": [{"sku": "A1", "quantity": True, "unit_price": 1}]},  # bool is not int
        {"order_id": "o-1", "items": [{"sku": "A1", "quantity": 1.5, "unit_price": 1}]},
        {"order_id": "o/1", "items": [{"sku": "A1", "quantity": 1, "unit_price": 1}]},
        {"order_id": "o-1", "items": [{"sku": "A1", "quantity": 1, "unit_price": "1"}]},
        {"order_id": "o-1", "items": [{"sku": "A1", "quantity": 1, "unit_price": 1}], "extra": 1},
        ["not", "an", "object"],
    ]
    for body in bad_bodies:
        status, payload, _ = await post_json(env, START, body)
        assert status == 400, body
        assert isinstance(payload["error"], str) and payload["error"]
    assert await all_instances(env) == []
