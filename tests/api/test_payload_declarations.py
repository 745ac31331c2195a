"""The payload declarations keep the strict rules of the hand-written converters they replaced,
and their error messages name each failing field and its location, never the value sent."""
from __future__ import annotations

import json

import pytest

from app_common.payloads.async_http_api import JobInput
from app_common.payloads.chaining import OrderInput
from app_common.payloads.counter import check_amount
from app_common.payloads.fan_out_fan_in import FanOutInput
from app_common.payloads.human_interaction import ApprovalDecisionRequest, ApprovalStartRequest
from app_common.payloads.monitor import MonitorInput
from app_common.validation import ValidationError

ORDER = {"order_id": "o-1", "items": [{"sku": "A1", "quantity": 2, "unit_price": 3}]}


def _line(**changes):
    return {**ORDER, "items": [{**ORDER["items"][0], **changes}]}


@pytest.mark.parametrize("data, message", [
    (_line(quantity=True), "'items[0].quantity' must be an integer, got boolean"),
    (_line(quantity=1.0), "'items[0].quantity' must be an integer, got number"),
    (_line(quantity=0), "'items[0].quantity' must be >= 1"),
    (_line(unit_price="3"), "'items[0].unit_price' must be a number, got string"),
    (_line(unit_price=float("nan")), "'items[0].unit_price' must be a finite number"),
    (_line(sku="a b"), "'items[0].sku' has invalid characters"),
    ({**ORDER, "items": []}, "'items' must not be empty"),
    ({**ORDER, "order_id": ""}, "'order_id' must not be empty"),
    ({**ORDER, "colour": "red"}, "unknown field 'colour'"),
    ({"items": ORDER["items"]}, "missing field 'order_id'"),
    ([ORDER], "OrderInput must be a JSON object, got array"),
])
def test_order_rules_and_messages(data, message):
    with pytest.raises(ValidationError) as caught:
        OrderInput.from_json(data)
    assert message in str(caught.value)


def test_every_failing_field_is_named_and_no_value_or_pydantic_text_is_echoed():
    secret = "s3cr3t-value"
    with pytest.raises(ValidationError) as caught:
        ApprovalDecisionRequest.from_json({"approved": secret, "approver": 5, "x": secret})
    text = str(caught.value)
    assert text == "'approved' must be true or false, got string; 'approver' must be a string, got number; " \
                   "unknown field 'x'"
    assert secret not in text and "Input should" not in text and "pydantic" not in text


@pytest.mark.parametrize("data", [{"approved": True}, {"approved": True, "approver": None}])
def test_a_decision_needs_an_approver(data):
    with pytest.raises(ValidationError):
        ApprovalDecisionRequest.from_json(data)


def test_numbers_keep_their_json_type_and_fields_their_order():
    job = JobInput.from_json({"items": [1, 2.5, 10**20], "job": "j"})
    assert json.dumps(job.to_json()) == \
        '{"job": "j", "items": [1, 2.5, 100000000000000000000], "duration_seconds": 0, "simulate_failure": false}'
    assert OrderInput.from_json(ORDER).to_json() == ORDER


def test_optional_fields_take_null_or_their_default():
    assert FanOutInput.from_json({}).to_json() == {"container": None, "prefix": ""}
    assert FanOutInput.from_json({"container": None}).container is None
    with pytest.raises(ValidationError, match="'prefix' must be a string, got null"):
        FanOutInput.from_json({"prefix": None})


@pytest.mark.parametrize("cls, data, message", [
    (ApprovalStartRequest, {"request": {"blob": "y" * 9000}}, "'request' must be at most 8192 bytes of JSON"),
    (ApprovalStartRequest, {"request": {}, "timeout_hours": 0}, "'timeout_hours' must be > 0"),
    (MonitorInput, {"job_id": "j", "polling_interval_seconds": 1, "expiry_seconds": 1, "expires_at": "soon"},
     "'expires_at' must be an ISO 8601 timestamp"),
    (FanOutInput, {"container": "a--b"}, "'container' has invalid characters"),
])
def test_custom_checks(cls, data, message):
    with pytest.raises(ValidationError, match=message):
        cls.from_json(data)


@pytest.mark.parametrize("value", [True, 1.0, "3", 2**53, None])
def test_counter_amounts_are_safe_integers(value):
    with pytest.raises(ValidationError, match="^body must be"):
        check_amount(value, "body")


def test_long_error_lists_are_cut():
    with pytest.raises(ValidationError) as caught:
        OrderInput.from_json({f"field{i}" * 10: i for i in range(20)})
    assert len(str(caught.value)) < 450 and str(caught.value).endswith("more")
