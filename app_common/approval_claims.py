"""The claim that serializes an approval's outcome: ``approvals/{instanceId}/claim.json`` in
RESULTS_CONTAINER, created only if absent. The decision route claims before raising the event;
``ProcessApproval`` and ``Escalate`` claim the outcome they apply. So one claim exists per
instance, and a decision that got a 202 either is the one applied or is found by the activity
that applied another outcome, which records it as superseded."""
from __future__ import annotations

from . import settings, storage
from .payloads.human_interaction import DecisionClaim
from .validation import loads


def record_name(instance_id: str, kind: str) -> str:
    return f"approvals/{instance_id}/{kind}.json"


def claim(instance_id: str, outcome: DecisionClaim) -> DecisionClaim | None:
    """Claim ``outcome``: None if it now counts, else the claim that was there first (which may
    equal ``outcome``: an activity retried, or the event of the decision that claimed)."""
    container, name = settings.results_container(), record_name(instance_id, "claim")
    while not storage.create_json(container, name, outcome.to_json()):
        existing = storage.download_bytes(container, name)
        if existing is not None:  # None: released between the two calls; claim again
            return DecisionClaim.from_json(loads(existing))
    return None


def release(instance_id: str) -> None:
    """Drop a claim whose decision could not be delivered (the instance had finished)."""
    storage.delete_blob(settings.results_container(), record_name(instance_id, "claim"))
