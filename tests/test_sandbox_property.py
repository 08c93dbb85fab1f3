"""Random sequences of operations and clock moves never break the money invariants.

Drives :class:`World` directly (the same code the HTTP layer calls), so hundreds of operations
run in well under a second per example.
"""

from __future__ import annotations

import json
import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from merchant_desk.sandbox.validation import Money
from merchant_desk.sandbox.world import World

KEYS = [f"key-{n}" for n in range(6)]  # a small pool, so keys get reused on purpose

step = st.one_of(
    st.tuples(st.just("order"), st.sampled_from(["Authorize", "AuthorizeWithCapture", "Confirm"]),
              st.integers(100, 20000)),
    st.tuples(st.just("capture"), st.integers(0, 50), st.integers(1, 120), st.sampled_from(KEYS)),
    st.tuples(st.just("charge"), st.integers(0, 50), st.integers(1, 120), st.booleans(), st.sampled_from(KEYS)),
    st.tuples(st.just("refund"), st.integers(0, 50), st.integers(1, 130), st.sampled_from(KEYS)),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("close"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("clock"), st.sampled_from([5, 31, 3600, 8 * 86400, 31 * 86400])),
    st.tuples(st.just("replay"), st.integers(0, 50)),
)


def usd(cents: int) -> dict[str, str]:
    return {"amount": f"{Decimal(cents) / 100:.2f}", "currencyCode": "USD"}


def pick(items: list, index: int):
    return items[index % len(items)] if items else None


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=40))
def test_random_operations_keep_the_invariants(steps):
    world = World(rng=random.Random(7))
    charges: list[str] = []
    permissions: list[str] = []
    keyed: dict[tuple[str, str | None, str], tuple[bytes, int, dict]] = {}

    def perform(operation, resource_id=None, body=None, key=None):
        raw = json.dumps(body).encode() if body is not None else b""
        status, answer, _ = world.perform(operation, resource_id=resource_id, body=raw, idempotency_key=key)
        if key is not None:
            # Keys are remembered per operation and target: only there is a key "the same".
            remembered = (operation, resource_id, key)
            if remembered in keyed:
                first = keyed[remembered]
                if first[0] == raw:
                    assert (status, answer) == (first[1], first[2]), "replay differs from the first answer"
                else:
                    assert (status, answer["reasonCode"]) == (400, "DuplicateIdempotencyKey")
            else:
                keyed[remembered] = (raw, status, answer)
        assert status < 500, answer
        return status, answer

    for action, *args in steps:
        if action == "order":
            intent, cents = args
            s = world.create_checkout_session(amount=Money(Decimal(cents) / 100, "USD"), payment_intent=intent)
            permissions.append(s.charge_permission_id)
            if s.charge_id:
                charges.append(s.charge_id)
        elif action == "capture" and charges:
            index, percent, key = args
            charge = world.charges[pick(charges, index)]
            amount = max(1, int(charge.amount * 100) * percent // 100)
            perform("captureCharge", charge.charge_id, {"captureAmount": usd(amount)}, key)
        elif action == "charge" and permissions:
            index, percent, capture_now, key = args
            permission = world.permissions[pick(permissions, index)]
            amount = max(1, int(permission.amount_limit * 100) * percent // 100)
            status, answer = perform("createCharge", None, {
                "chargePermissionId": permission.charge_permission_id, "chargeAmount": usd(amount),
                "captureNow": capture_now}, key)
            if status == 201 and answer["chargeId"] not in charges:
                charges.append(answer["chargeId"])
        elif action == "refund" and charges:
            index, percent, key = args
            charge = world.charges[pick(charges, index)]
            amount = max(1, int((charge.capture_amount or charge.amount) * 100) * percent // 100)
            perform("createRefund", None, {"chargeId": charge.charge_id, "refundAmount": usd(amount)}, key)
        elif action == "cancel" and charges:
            perform("cancelCharge", pick(charges, args[0]), {"cancellationReason": "property test"})
        elif action == "close" and permissions:
            index, cancel_pending = args
            perform("closeChargePermission", pick(permissions, index),
                    {"closureReason": "property test", "cancelPendingCharges": cancel_pending})
        elif action == "clock":
            world.advance_clock(args[0])
        elif action == "replay" and keyed:
            operation, resource_id, key = pick(sorted(keyed, key=str), args[0])
            raw, status, answer = keyed[(operation, resource_id, key)]
            again = world.perform(operation, resource_id=resource_id, body=raw, idempotency_key=key)
            assert again[:2] == (status, answer) and again[2] is True
        world.check_invariants()
        for permission_id in permissions:
            view = world.permission_view(permission_id)
            assert Decimal(view["limits"]["amountBalance"]["amount"]) >= 0
        for charge_id in charges:
            view = world.charge_view(charge_id)
            if view["captureAmount"] is not None:
                assert Decimal(view["captureAmount"]["amount"]) <= Decimal(view["chargeAmount"]["amount"])
