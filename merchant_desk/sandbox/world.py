"""The emulator's state machine: Amazon Pay's objects, rules and business clock. No HTTP here.

Every public operation takes the already-authenticated request's parts and returns
``(status, body)``, exactly what Amazon would answer; :class:`~.errors.Refusal` carries the error
answers. Time-driven transitions (expiry, pending authorizations, refunds settling) are applied
lazily whenever an object is read or used, against the *business* clock: real time plus the
offset tests move with ``advance_clock``. Nothing here ever sleeps.

REFERENCE.md section 4 is the specification; rules marked "(chosen)" there are enforced as written.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from . import objects as o
from . import storefront
from .currencies import (
    LEDGER_CURRENCY,
    MULTI_CURRENCY_REGIONS,
    REFUND_OVER_CAPTURE_CAP,
    REFUND_OVER_CAPTURE_RATE,
)
from .errors import Refusal, invalid, not_found
from .persistence import MemoryStore, Store
from .reports import REPORT_OPERATIONS, ReportBook
from .validation import (
    Money,
    carrier_codes,
    check_fields,
    format_amount,
    normalize_tracking_number,
    parse_bool,
    parse_json_body,
    parse_merchant_metadata,
    parse_money,
    parse_soft_descriptor,
    parse_text,
)

#: The SDKs' operation names (ARCHITECTURE "Contract: emulator").
OPERATIONS = (
    "getCheckoutSession",
    "completeCheckoutSession",
    "getChargePermission",
    "updateChargePermission",
    "closeChargePermission",
    "createCharge",
    "getCharge",
    "captureCharge",
    "cancelCharge",
    "createRefund",
    "getRefund",
    "deliveryTrackers",
    # The storefront's calls (.storefront).
    "createCheckoutSession",
    "updateCheckoutSession",
    "finalizeCheckoutSession",
    "getBuyer",
    *REPORT_OPERATIONS,
)

#: Operations that refuse a request without ``x-amz-pay-idempotency-key`` (REFERENCE section 3).
IDEMPOTENCY_REQUIRED = frozenset(
    {"createCharge", "captureCharge", "createRefund", "createCheckoutSession", "createReport"}
)

#: Sandbox simulation codes each operation accepts (REFERENCE section 7).
SIMULATION_CODES: dict[str, frozenset[str]] = {
    "completeCheckoutSession": frozenset(
        {"BuyerCanceled", "AmazonCanceled", "Declined", "AuthorizationInitiated"}
    ),
    "createCharge": frozenset(
        {"SoftDeclined", "HardDeclined", "AmazonRejected", "TransactionTimedOut", "CaptureInitiated"}
    ),
    "captureCharge": frozenset({"CaptureInitiated", "AmazonRejected"}),
    "closeChargePermission": frozenset({"AmazonClosed"}),
}

SESSION_EXPIRY = timedelta(hours=24)
SESSION_RETENTION = timedelta(days=30)
BUYER_DATA_READABLE = timedelta(days=30)
PERMISSION_EXPIRY = timedelta(days=180)
AUTHORIZATION_EXPIRY = timedelta(days=30)
#: Capturing later than this after authorization goes through CaptureInitiated first.
CAPTURE_INITIATED_AFTER = timedelta(days=7)
#: How long asynchronous states take to resolve in the sandbox (REFERENCE section 7: 30 s).
ASYNC_RESOLUTION = timedelta(seconds=30)
MAX_CHARGES_PER_PERMISSION = 25

CANCELED_SESSION_REASONS = {
    "BuyerCanceled": "The buyer canceled the checkout.",
    "Expired": "The Checkout Session expired after 24 hours without being completed.",
    "AmazonCanceled": "Amazon canceled the checkout because of a service problem.",
    "Declined": "The payment was declined (payment method, fraud check or failed MFA).",
}
DECLINE_REASONS = {
    "SoftDeclined": "The authorization was soft declined; a retry may succeed.",
    "HardDeclined": "The authorization was hard declined; the buyer must change the payment method.",
    "AmazonRejected": "Amazon rejected the transaction.",
    "ProcessingFailure": "Amazon could not process the transaction because of an internal error.",
    "TransactionTimedOut": "The authorization did not complete in time.",
}
PERMISSION_CLOSED_REASONS = {
    "MerchantClosed": "The merchant closed the Charge Permission.",
    "BuyerClosed": "The buyer closed the Charge Permission.",
    "AmazonCanceled": "Amazon canceled the Charge Permission.",
    "AmazonClosed": "The Charge Permission was fully charged and closed by Amazon.",
    "Expired": "The Charge Permission expired after 180 days.",
    # Older documents' names, still accepted when seeded or imported.
    "MerchantCanceled": "The merchant canceled the Charge Permission.",
    "BuyerCanceled": "The buyer canceled the Charge Permission.",
}
PERMISSION_NON_CHARGEABLE_REASONS = {
    "PaymentMethodInvalid": "The payment method was invalid.",
    "PaymentMethodDeleted": "The buyer deleted the payment method.",
    "BillingAddressDeleted": "The buyer deleted the billing address.",
    "PaymentMethodExpired": "The payment method has expired.",
    "PaymentMethodNotAllowed": "The payment method is not allowed for this transaction.",
    "PaymentMethodNotSet": "No payment method is set on the Charge Permission.",
    "ChargeInProgress": "A charge is already in progress on this Charge Permission.",
    "MFAFailed": "The buyer did not complete multi-factor authentication.",
}
CHARGE_CANCELED_REASONS = {
    "ExpiredUnused": "The authorization expired after 30 days without a capture.",
    "AmazonCanceled": "Amazon canceled the charge.",
    "MerchantCanceled": "The merchant canceled the charge.",
    "ChargePermissionCanceled": "The Charge Permission was closed with its pending charges.",
    "BuyerCanceled": "The buyer canceled the charge.",
}

_RESERVING_STATES = ("AuthorizationInitiated", "Authorized")
_CAPTURED_STATES = ("CaptureInitiated", "Captured")

Clock = Callable[[], datetime]

#: How long request counts may wait in memory before they reach a persistent store. A count is
#: exact in memory (the ledger) at once; on disk it is written with the next change of the world
#: or within this many seconds, whichever comes first, and on close. So a GET costs no SQLite
#: commit of its own, and a kill -9 can lose at most this much of the *counts*: never an
#: order, a capture, a refund or an idempotency record.
COUNTS_FLUSH_SECONDS = 0.5


def _real_clock() -> datetime:
    return datetime.now(UTC)


def body_fingerprint(operation: str, resource_id: str | None, raw: bytes) -> str:
    """What "the same request" means for idempotency: operation, target and body *content*.

    Bodies are compared as parsed JSON (key order and whitespace do not matter), raw bytes if
    they are not JSON.
    """
    try:
        canonical = json.dumps(json.loads(raw or b"{}"), sort_keys=True, separators=(",", ":"))
        payload = canonical.encode("utf-8")
    except (ValueError, UnicodeDecodeError, RecursionError):
        payload = raw
    digest = hashlib.sha256()
    digest.update(f"{operation}\n{resource_id or ''}\n".encode())
    digest.update(payload)
    return digest.hexdigest()


_KINDS: dict[str, type] = {
    "session": o.CheckoutSession,
    "permission": o.ChargePermission,
    "charge": o.Charge,
    "refund": o.Refund,
    "tracker": o.DeliveryTracker,
    "idempotency": o.IdempotencyRecord,
    "buyerToken": o.BuyerToken,
}


class World:
    """All of one merchant account's Amazon Pay data, its rules and its ledger.

    Thread-safe: one re-entrant lock serialises operations (the server thread and a test's
    direct calls may meet).
    """

    def __init__(
        self,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        region: str = "na",
    ) -> None:
        #: The merchant's region: its book currency, and whether it sells in other currencies
        #: (then a charge in any other one carries its amount converted to the book currency).
        self.region = region
        self.ledger_currency = LEDGER_CURRENCY.get(region, "USD")
        self.multi_currency = region in MULTI_CURRENCY_REGIONS
        self._store: Store = store or MemoryStore()
        self._clock: Clock = clock or _real_clock
        self._random = rng or random.Random()
        self._lock = threading.RLock()
        self._dirty: dict[tuple[str, str], Any] = {}
        self._depth = 0
        # Request counts not yet written (a persistent store only), and the timer that will.
        self._persistent = not isinstance(self._store, MemoryStore)
        self._counts_unsaved = False
        self._counts_timer: threading.Timer | None = None
        self._closed = False
        self.sessions: dict[str, o.CheckoutSession] = {}
        self.permissions: dict[str, o.ChargePermission] = {}
        self.charges: dict[str, o.Charge] = {}
        self.refunds: dict[str, o.Refund] = {}
        self.trackers: dict[str, o.DeliveryTracker] = {}
        self.idempotency: dict[str, o.IdempotencyRecord] = {}
        self.buyer_tokens: dict[str, o.BuyerToken] = {}
        self.clock_offset = 0.0
        self.requests = 0
        self.rejected_signatures = 0
        self.ledger_entries: list[tuple[str, dict[str, Any]]] = []
        #: Settlements, reports, schedules and disbursements (:mod:`.reports`).
        self.reports = ReportBook(self)
        self._load()

    # ------------------------------------------------------------------ persistence

    def _load(self) -> None:
        data = self._store.load()
        tables: dict[str, dict[str, Any]] = {
            "session": self.sessions,
            "permission": self.permissions,
            "charge": self.charges,
            "refund": self.refunds,
            "tracker": self.trackers,
            "idempotency": self.idempotency,
            "buyerToken": self.buyer_tokens,
        }
        for kind, cls in _KINDS.items():
            names = {f.name for f in fields(cls)}
            for key, doc in data.get(kind, {}).items():
                tables[kind][key] = cls(**{k: v for k, v in doc.items() if k in names})
        meta = data.get("meta", {})
        self.clock_offset = float(meta.get("clock", {}).get("offsetSeconds", 0.0))
        counts = meta.get("counts", {})
        self.requests = int(counts.get("requests", 0))
        self.rejected_signatures = int(counts.get("rejectedSignatures", 0))
        for _, doc in sorted(data.get("ledger", {}).items()):
            self.ledger_entries.append((doc["list"], doc["entry"]))
        self.reports.load(data)

    def _save(self, kind: str, key: str, document: Any) -> None:
        self._dirty[(kind, key)] = document

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock; write every change made inside to the store when the outermost ends."""
        with self._lock:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._dirty:
                    self._commit()

    def _commit(self) -> None:
        """Write the pending changes in one store transaction (the lock is held)."""
        if self._counts_unsaved:
            self._counts_unsaved = False
            self._save_counts()
        changes = [(k, i, d) for (k, i), d in self._dirty.items()]
        self._dirty = {}
        self._store.write(changes)

    def _flush_counts(self) -> None:
        """The counts timer: write the request counts if nothing else has since."""
        with self._lock:
            self._counts_timer = None
            if self._counts_unsaved and not self._closed:
                with self.transaction():
                    self._save_counts()

    def close(self) -> None:
        """Write what is still in memory and release the store (the SQLite file)."""
        with self._lock:
            if self._closed:
                return
            if self._counts_timer is not None:
                self._counts_timer.cancel()
                self._counts_timer = None
            if self._counts_unsaved:
                with self.transaction():
                    self._save_counts()
            self._closed = True
            self._store.close()

    def is_empty(self) -> bool:
        """True when there is no order at all (used to seed a fresh state file only once)."""
        return not (self.sessions or self.permissions)

    # ------------------------------------------------------------------ clock and ledger

    def now(self) -> datetime:
        """Business time: the real clock plus every ``advance_clock`` so far."""
        return self._clock() + timedelta(seconds=self.clock_offset)

    def advance_clock(self, seconds: float) -> datetime:
        """Move business time forward (expiry, the 7-day rule, pending states)."""
        if seconds < 0:
            raise invalid("advanceSeconds must not be negative: business time only moves forward.")
        with self.transaction():
            self.clock_offset += seconds
            self._save("meta", "clock", {"offsetSeconds": self.clock_offset})
            return self.now()

    def _save_counts(self) -> None:
        self._save(
            "meta",
            "counts",
            {"requests": self.requests, "rejectedSignatures": self.rejected_signatures},
        )

    def count_request(self, *, rejected_signature: bool = False) -> None:
        """Count one API request received (and whether its signature was refused).

        The ledger shows it at once; a persistent store gets it with the next write or within
        :data:`COUNTS_FLUSH_SECONDS`, not in a commit of its own per request.
        """
        with self._lock:
            self.requests += 1
            if rejected_signature:
                self.rejected_signatures += 1
            if self._persistent and not self._closed:
                self._counts_unsaved = True
                if self._counts_timer is None:
                    timer = threading.Timer(COUNTS_FLUSH_SECONDS, self._flush_counts)
                    timer.daemon = True
                    self._counts_timer = timer
                    timer.start()

    def _record(self, which: str, entry: dict[str, Any]) -> None:
        with self.transaction():
            self.ledger_entries.append((which, entry))
            self._save("ledger", f"{len(self.ledger_entries):09d}", {"list": which, "entry": entry})

    def ledger(self) -> dict[str, Any]:
        """What really happened, in the contract's shape."""
        with self._lock:
            out: dict[str, Any] = {
                "requests": self.requests,
                "rejectedSignatures": self.rejected_signatures,
                "charges": [],
                "captures": [],
                "refunds": [],
                "cancellations": [],
                "closures": [],
                "trackers": [],
            }
            for which, entry in self.ledger_entries:
                out[which].append(dict(entry))
            with self.transaction():
                self.reports.catch_up(self.now())
            out.update(self.reports.ledger_json())
            return out

    # ------------------------------------------------------------------ IDs

    def _digits(self, n: int) -> str:
        return "".join(self._random.choice("0123456789") for _ in range(n))

    def _new_session_id(self) -> str:
        while True:
            candidate = str(uuid.UUID(int=self._random.getrandbits(128), version=4))
            if candidate not in self.sessions:
                return candidate

    def _new_permission_id(self, live: bool, permission_type: str = "OneTime") -> str:
        # Recurring (and saved-wallet) permissions' IDs start with C, whatever the environment.
        prefix = "C" if permission_type != "OneTime" else ("P" if live else "S")
        while True:
            candidate = f"{prefix}01-{self._digits(7)}-{self._digits(7)}"
            if candidate not in self.permissions:
                return candidate

    def _new_child_id(self, parent: str, letter: str, taken: dict[str, Any]) -> str:
        while True:
            candidate = f"{parent}-{letter}{self._digits(6)}"
            if candidate not in taken:
                return candidate

    # ------------------------------------------------------------------ lazy transitions

    def _settle_session(self, s: o.CheckoutSession, now: datetime) -> o.CheckoutSession | None:
        if now >= s.created + SESSION_RETENTION:
            # Amazon deletes sessions after 30 days: from then on the ID is unknown.
            del self.sessions[s.checkout_session_id]
            self._save("session", s.checkout_session_id, None)
            return None
        if s.state == "Open" and now >= s.created + SESSION_EXPIRY:
            self._set_session_state(s, "Canceled", "Expired", s.created + SESSION_EXPIRY)
        return s

    def _set_session_state(
        self, s: o.CheckoutSession, state: str, reason: str | None, when: datetime
    ) -> None:
        s.state, s.reason_code, s.updated = state, reason, when
        s.reason_description = CANCELED_SESSION_REASONS.get(reason) if reason else None
        self._save("session", s.checkout_session_id, s)

    def _settle_charge(self, c: o.Charge, now: datetime) -> None:
        if c.state in ("AuthorizationInitiated", "CaptureInitiated") and c.resolve_at and now >= c.resolve_at:
            when, outcome = c.resolve_at, c.resolve_to or "Authorized"
            c.resolve_at = c.resolve_to = None
            if outcome.startswith("Declined:"):
                reason = outcome.split(":", 1)[1]
                self._set_charge_state(c, "Declined", reason, DECLINE_REASONS.get(reason), when)
                if reason == "AmazonRejected":
                    self._amazon_cancels(self.permissions[c.charge_permission_id], when)
            elif outcome == "Captured" or (c.state == "AuthorizationInitiated" and c.capture_now):
                if c.authorized_at is None:
                    c.authorized_at = when
                if c.capture_amount is None:
                    c.capture_amount = c.amount
                c.captured_at = when
                self._set_charge_state(c, "Captured", None, None, when)
            else:
                c.authorized_at = when
                self._set_charge_state(c, "Authorized", None, None, when)
        if (
            c.state == "Authorized"
            and c.authorized_at is not None
            and now >= c.authorized_at + AUTHORIZATION_EXPIRY
        ):
            when = c.authorized_at + AUTHORIZATION_EXPIRY
            self._set_charge_state(
                c, "Canceled", "ExpiredUnused", CHARGE_CANCELED_REASONS["ExpiredUnused"], when
            )

    def _amazon_cancels(self, p: o.ChargePermission, when: datetime) -> None:
        """A charge declined AmazonRejected cancels its Charge Permission, and what it still holds."""
        if p.state == "Closed":
            return
        self._cancel_reserving(p, when)
        self._set_permission_state(p, "Closed", "AmazonCanceled", when)

    def _cancel_reserving(self, p: o.ChargePermission, when: datetime) -> None:
        for cid in p.charge_ids:
            c = self.charges[cid]
            if c.state in _RESERVING_STATES:
                c.resolve_at = c.resolve_to = None
                self._set_charge_state(
                    c, "Canceled", "ChargePermissionCanceled", CHARGE_CANCELED_REASONS["ChargePermissionCanceled"], when
                )

    def _set_charge_state(
        self, c: o.Charge, state: str, reason: str | None, description: str | None, when: datetime
    ) -> None:
        c.state, c.reason_code, c.reason_description, c.updated = state, reason, description, when
        self._save("charge", c.charge_id, c)

    def _settle_refund(self, r: o.Refund, now: datetime) -> None:
        if r.state == "RefundInitiated" and r.resolve_at and now >= r.resolve_at:
            outcome, when = r.resolve_to or "Refunded", r.resolve_at
            r.resolve_at = r.resolve_to = None
            if outcome.startswith("Declined:"):
                reason = outcome.split(":", 1)[1]
                r.state, r.reason_code, r.reason_description = "Declined", reason, DECLINE_REASONS.get(reason)
            else:
                r.state, r.reason_code, r.reason_description = "Refunded", None, None
            r.updated = when
            self._save("refund", r.refund_id, r)

    def _settle_permission(self, p: o.ChargePermission, now: datetime) -> None:
        for charge_id in p.charge_ids:
            self._settle_charge(self.charges[charge_id], now)
            for refund_id in self.charges[charge_id].refund_ids:
                self._settle_refund(self.refunds[refund_id], now)
        if p.state == "Closed":
            return
        if now >= p.created + PERMISSION_EXPIRY:
            self._set_permission_state(p, "Closed", "Expired", p.created + PERMISSION_EXPIRY)
        elif self._captured_total(p) >= p.amount_limit:
            last = max(self.charges[cid].updated for cid in p.charge_ids)
            self._set_permission_state(p, "Closed", "AmazonClosed", last)

    def _set_permission_state(
        self, p: o.ChargePermission, state: str, reason: str | None, when: datetime, description: str | None = None
    ) -> None:
        p.state, p.reason_code, p.updated = state, reason, when
        p.reason_description = description or (
            PERMISSION_CLOSED_REASONS.get(reason) or PERMISSION_NON_CHARGEABLE_REASONS.get(reason)
            if reason
            else None
        )
        self._save("permission", p.charge_permission_id, p)

    # ------------------------------------------------------------------ derived values

    def _captured_total(self, p: o.ChargePermission) -> Decimal:
        total = Decimal(0)
        for cid in p.charge_ids:
            c = self.charges[cid]
            if c.state == "Captured" and c.capture_amount is not None:
                total += c.capture_amount
        return total

    def balance(self, p: o.ChargePermission) -> Decimal:
        """amountLimit minus what live charges hold: authorizations in full, captures as captured."""
        used = Decimal(0)
        for cid in p.charge_ids:
            c = self.charges[cid]
            if c.state in _RESERVING_STATES:
                used += c.amount
            elif c.state in _CAPTURED_STATES and c.capture_amount is not None:
                used += c.capture_amount
        return p.amount_limit - used

    def _effective_permission_state(self, p: o.ChargePermission) -> tuple[str, str | None, str | None]:
        if p.state == "Chargeable" and any(
            self.charges[cid].state == "AuthorizationInitiated" for cid in p.charge_ids
        ):
            return "NonChargeable", "ChargeInProgress", PERMISSION_NON_CHARGEABLE_REASONS["ChargeInProgress"]
        return p.state, p.reason_code, p.reason_description

    @staticmethod
    def refund_cap(c: o.Charge) -> Decimal:
        """The most a captured charge may be refunded: captured + min(15 %, the currency's cap)."""
        assert c.capture_amount is not None
        over = c.capture_amount * REFUND_OVER_CAPTURE_RATE
        fixed = REFUND_OVER_CAPTURE_CAP.get(c.currency_code)
        return c.capture_amount + (over if fixed is None else min(over, fixed))

    def refunded_total(self, c: o.Charge, *, include_pending: bool = False) -> Decimal:
        """Sum of the charge's refunds that completed (or that may still complete)."""
        states = ("Refunded", "RefundInitiated") if include_pending else ("Refunded",)
        return sum(
            (self.refunds[rid].amount for rid in c.refund_ids if self.refunds[rid].state in states),
            Decimal(0),
        )

    def _permission_view(self, p: o.ChargePermission, now: datetime) -> dict[str, Any]:
        state, reason, description = self._effective_permission_state(p)
        return o.permission_json(
            p,
            state=state,
            reason_code=reason,
            reason_description=description,
            balance=self.balance(p),
            buyer_readable=now < p.created + BUYER_DATA_READABLE,
            expiration=p.created + PERMISSION_EXPIRY,
        )

    def _charge_view(self, c: o.Charge) -> dict[str, Any]:
        return o.charge_json(
            c,
            refunded=self.refunded_total(c),
            expiration=c.created + AUTHORIZATION_EXPIRY,
            ledger_currency=self.ledger_currency if self.multi_currency else None,
        )

    # ------------------------------------------------------------------ lookups

    def _session(self, session_id: str, now: datetime) -> o.CheckoutSession:
        s = self.sessions.get(session_id)
        if s is None or self._settle_session(s, now) is None:
            raise not_found("Checkout Session", session_id)
        return s

    def _permission(self, permission_id: str, now: datetime) -> o.ChargePermission:
        p = self.permissions.get(permission_id)
        if p is None:
            raise not_found("Charge Permission", permission_id)
        self._settle_permission(p, now)
        return p

    def _charge(self, charge_id: str, now: datetime) -> o.Charge:
        c = self.charges.get(charge_id)
        if c is None:
            raise not_found("Charge", charge_id)
        self._settle_permission(self.permissions[c.charge_permission_id], now)
        return c

    # ------------------------------------------------------------------ the API

    def perform(
        self,
        operation: str,
        *,
        resource_id: str | None = None,
        body: bytes = b"",
        simulation: str | None = None,
        idempotency_key: str | None = None,
        live: bool = False,
        query: Sequence[tuple[str, str]] = (),
        base_url: str = "",
    ) -> tuple[int, dict[str, Any], bool]:
        """Run one API operation; return ``(status, body, replayed)``.

        With an idempotency key the first answer (success or refusal, never a 5xx) is kept for
        the life of the data and replayed for the same request; the same key with another
        request is refused with ``DuplicateIdempotencyKey``.
        """
        handler: Callable[..., tuple[int, dict[str, Any]]]
        if operation in REPORT_OPERATIONS:
            handler = partial(self.reports.perform, operation)
        else:
            handler = getattr(self, f"_op_{operation}")
        # Keys are remembered per operation and target (REFERENCE "Corrections"): one key may
        # serve a Create Charge and then the Capture of that charge.
        remembered = f"{operation}/{resource_id or ''}/{idempotency_key}"
        with self.transaction():
            fingerprint = None
            if idempotency_key is not None:
                fingerprint = body_fingerprint(operation, resource_id, body)
                previous = self.idempotency.get(remembered)
                if previous is None:
                    # A state file written when keys were remembered alone: the same request
                    # (its fingerprint names the operation and target) still gets its answer.
                    legacy = self.idempotency.get(idempotency_key)
                    if legacy is not None and legacy.fingerprint == fingerprint:
                        previous = legacy
                if previous is not None:
                    if previous.fingerprint != fingerprint:
                        return (
                            400,
                            Refusal(
                                400,
                                "DuplicateIdempotencyKey",
                                f"The idempotency key {idempotency_key!r} was already used with a "
                                "different request; use a new key for a new request.",
                            ).body(),
                            False,
                        )
                    return previous.status, json.loads(json.dumps(previous.body)), True
            now = self.now()
            try:
                status, answer = handler(
                    now=now,
                    resource_id=resource_id,
                    body=body,
                    simulation=simulation,
                    idempotency_key=idempotency_key,
                    live=live,
                    query=query,
                    base_url=base_url,
                )
            except Refusal as refusal:
                status, answer = refusal.status, refusal.body()
            if idempotency_key is not None and fingerprint is not None and status < 500:
                record = o.IdempotencyRecord(fingerprint, status, json.loads(json.dumps(answer)))
                self.idempotency[remembered] = record
                self._save("idempotency", remembered, record)
            return status, answer, False

    # The storefront's calls live in their own module; these only route to it.
    def _op_createCheckoutSession(self, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return storefront.create_checkout_session(self, **kwargs)

    def _op_updateCheckoutSession(self, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return storefront.update_checkout_session(self, **kwargs)

    def _op_finalizeCheckoutSession(self, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return storefront.finalize_checkout_session(self, **kwargs)

    def _op_getBuyer(self, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        return storefront.get_buyer(self, **kwargs)

    def _op_getCheckoutSession(self, *, now: datetime, resource_id: str | None, **_: Any) -> tuple[int, dict[str, Any]]:
        return 200, o.session_json(self._session(resource_id or "", now))

    def _op_completeCheckoutSession(
        self, *, now: datetime, resource_id: str | None, body: bytes, simulation: str | None, live: bool, **_: Any
    ) -> tuple[int, dict[str, Any]]:
        data = parse_json_body(body)
        check_fields(data, allowed=("chargeAmount", "totalOrderAmount"), required=("chargeAmount",))
        amount = parse_money(data["chargeAmount"], "chargeAmount")
        total = None
        if data.get("totalOrderAmount") is not None:
            total = parse_money(data["totalOrderAmount"], "totalOrderAmount")
        s = self._session(resource_id or "", now)
        # A session already Canceled (an expired one too) or Completed is the wrong status;
        # CheckoutSessionCanceled is for a completion that itself fails (below).
        if s.state == "Canceled":
            raise Refusal(
                422,
                "InvalidCheckoutSessionStatus",
                f"The Checkout Session is Canceled ({s.reason_code}); send the buyer back to the "
                "start of checkout and create a new Checkout Session.",
            )
        if s.state != "Open":
            raise Refusal(
                422,
                "InvalidCheckoutSessionStatus",
                f"The Checkout Session is {s.state}; only an Open session can be completed.",
            )
        simulation = storefront.complete_simulation(s, simulation)
        if amount.currency_code != s.currency_code:
            raise Refusal(
                400,
                "CurrencyMismatch",
                f"chargeAmount is in {amount.currency_code} but the Checkout Session is in {s.currency_code}.",
            )
        if amount.amount != s.amount:
            raise Refusal(
                409,
                "AmountMismatch",
                f"chargeAmount {format_amount(amount.amount, amount.currency_code)} does not match the "
                f"Checkout Session amount {format_amount(s.amount, s.currency_code)} {s.currency_code}.",
            )
        if s.total_order_amount is not None:
            if total is None:
                raise Refusal(
                    400,
                    "MissingParameterValue",
                    "The Checkout Session has a totalOrderAmount: send it with Complete Checkout Session.",
                )
            if total.currency_code != s.currency_code or total.amount != s.total_order_amount:
                raise Refusal(
                    409,
                    "AmountMismatch",
                    f"totalOrderAmount {format_amount(total.amount, total.currency_code)} "
                    f"{total.currency_code} does not match the Checkout Session's "
                    f"{format_amount(s.total_order_amount, s.currency_code)} {s.currency_code}.",
                )
        if simulation == "AuthorizationInitiated" and s.payment_intent == "Confirm":
            raise Refusal(
                400,
                "InvalidSandboxSimulationSpecified",
                "AuthorizationInitiated does not apply to a Checkout Session whose paymentIntent is Confirm.",
            )
        if simulation == "AuthorizationInitiated" and not s.can_handle_pending_authorization:
            # A pending authorization is only given to a shop that said it can handle one (chosen:
            # Amazon documents that it is needed, not the error's name).
            raise Refusal(
                400,
                "InvalidSandboxSimulationSpecified",
                "AuthorizationInitiated needs a Checkout Session with canHandlePendingAuthorization true.",
            )
        if simulation in ("BuyerCanceled", "AmazonCanceled", "Declined"):
            self._set_session_state(s, "Canceled", simulation, now)
            raise Refusal(
                400,
                "CheckoutSessionCanceled",
                f"The Checkout Session was canceled ({simulation}): {CANCELED_SESSION_REASONS[simulation]}",
            )
        pending = simulation == "AuthorizationInitiated"
        self._complete(s, now, live=live, pending=pending, record=True)
        return (202 if pending else 200), o.session_json(s)

    def _complete(
        self, s: o.CheckoutSession, now: datetime, *, live: bool, pending: bool, record: bool
    ) -> None:
        """Completed: a Charge Permission, and a Charge unless the intent is Confirm."""
        p = o.ChargePermission(
            charge_permission_id=self._new_permission_id(live, s.charge_permission_type),
            checkout_session_id=s.checkout_session_id,
            created=now,
            updated=now,
            amount_limit=s.amount,
            currency_code=s.currency_code,
            state="Chargeable",
            reason_code=None,
            reason_description=None,
            buyer=dict(s.buyer),
            shipping_address=s.shipping_address and dict(s.shipping_address),
            billing_address=s.billing_address and dict(s.billing_address),
            payment_descriptor=s.payment_descriptor,
            merchant_metadata=dict(s.merchant_metadata),
            release_environment="Live" if live else "Sandbox",
            charge_permission_type=s.charge_permission_type,
        )
        self.permissions[p.charge_permission_id] = p
        self._save("permission", p.charge_permission_id, p)
        s.charge_permission_id = p.charge_permission_id
        if s.payment_intent != "Confirm":
            c = self._new_charge(
                p,
                Money(s.amount, s.currency_code),
                now,
                capture_now=s.payment_intent == "AuthorizeWithCapture",
                pending_outcome="Authorized" if pending else None,
                soft_descriptor=None,
            )
            s.charge_id = c.charge_id
            if record and c.capture_now:
                self._record_capture(c, None)
        self._set_session_state(s, "Completed", None, now)
        self._settle_permission(p, now)

    def _new_charge(
        self,
        p: o.ChargePermission,
        amount: Money,
        now: datetime,
        *,
        capture_now: bool,
        pending_outcome: str | None,
        soft_descriptor: str | None,
        capture_initiated: bool = False,
    ) -> o.Charge:
        c = o.Charge(
            charge_id=self._new_child_id(p.charge_permission_id, "C", self.charges),
            charge_permission_id=p.charge_permission_id,
            created=now,
            updated=now,
            amount=amount.amount,
            currency_code=amount.currency_code,
            state="Authorized",
            reason_code=None,
            reason_description=None,
            release_environment=p.release_environment,
            capture_now=capture_now,
            soft_descriptor=soft_descriptor,
        )
        if pending_outcome is not None:
            c.state, c.resolve_at, c.resolve_to = "AuthorizationInitiated", now + ASYNC_RESOLUTION, pending_outcome
            if capture_now:
                c.capture_amount = amount.amount
        else:
            c.authorized_at = now
            if capture_now:
                c.capture_amount = amount.amount
                if capture_initiated:
                    c.state, c.resolve_at, c.resolve_to = "CaptureInitiated", now + ASYNC_RESOLUTION, "Captured"
                else:
                    c.state, c.captured_at = "Captured", now
        self.charges[c.charge_id] = c
        p.charge_ids.append(c.charge_id)
        self._save("charge", c.charge_id, c)
        self._save("permission", p.charge_permission_id, p)
        return c

    def _record_capture(self, c: o.Charge, idempotency_key: str | None) -> None:
        self._record(
            "captures",
            {
                "chargeId": c.charge_id,
                "amount": format_amount(c.capture_amount or c.amount, c.currency_code),
                "currencyCode": c.currency_code,
                "idempotencyKey": idempotency_key,
            },
        )

    def _op_getChargePermission(self, *, now: datetime, resource_id: str | None, **_: Any) -> tuple[int, dict[str, Any]]:
        return 200, self._permission_view(self._permission(resource_id or "", now), now)

    def _op_closeChargePermission(
        self, *, now: datetime, resource_id: str | None, body: bytes, simulation: str | None, **_: Any
    ) -> tuple[int, dict[str, Any]]:
        data = parse_json_body(body)
        check_fields(data, allowed=("closureReason", "cancelPendingCharges"), required=("closureReason",))
        reason_text = parse_text(data["closureReason"], "closureReason")
        cancel_pending = parse_bool(data.get("cancelPendingCharges"), "cancelPendingCharges")
        p = self._permission(resource_id or "", now)
        if p.state == "Closed":
            raise Refusal(
                422,
                "InvalidChargePermissionStatus",
                f"The Charge Permission is already Closed ({p.reason_code}); it cannot be closed again.",
            )
        if cancel_pending:
            self._cancel_reserving(p, now)
        reason = "AmazonClosed" if simulation == "AmazonClosed" else "MerchantClosed"
        self._set_permission_state(p, "Closed", reason, now, reason_text if reason == "MerchantClosed" else None)
        self._record(
            "closures",
            {
                "chargePermissionId": p.charge_permission_id,
                "reasonCode": reason,
                "closureReason": reason_text,
                "cancelPendingCharges": cancel_pending,
            },
        )
        return 200, self._permission_view(p, now)

    def _op_updateChargePermission(
        self, *, now: datetime, resource_id: str | None, body: bytes, **_: Any
    ) -> tuple[int, dict[str, Any]]:
        data = parse_json_body(body)
        check_fields(data, allowed=("merchantMetadata",), required=("merchantMetadata",))
        metadata = parse_merchant_metadata(data["merchantMetadata"])
        p = self._permission(resource_id or "", now)
        if p.state == "Closed":
            raise Refusal(
                422,
                "ChargePermissionNotModifiable",
                f"The Charge Permission is Closed ({p.reason_code}); it can no longer be updated.",
            )
        p.merchant_metadata = {**p.merchant_metadata, **metadata}
        p.updated = now
        self._save("permission", p.charge_permission_id, p)
        return 200, self._permission_view(p, now)

    def _op_createCharge(
        self, *, now: datetime, body: bytes, simulation: str | None, idempotency_key: str | None, **_: Any
    ) -> tuple[int, dict[str, Any]]:
        data = parse_json_body(body)
        check_fields(
            data,
            allowed=(
                "chargePermissionId",
                "chargeAmount",
                "captureNow",
                "softDescriptor",
                "canHandlePendingAuthorization",
                "merchantMetadata",
                "providerMetadata",
                "platformId",
            ),
            required=("chargePermissionId", "chargeAmount"),
        )
        permission_id = data["chargePermissionId"]
        if not isinstance(permission_id, str):
            raise invalid("chargePermissionId must be a string.")
        amount = parse_money(data["chargeAmount"], "chargeAmount")
        capture_now = parse_bool(data.get("captureNow"), "captureNow")
        can_pend = parse_bool(data.get("canHandlePendingAuthorization"), "canHandlePendingAuthorization")
        soft_descriptor = parse_soft_descriptor(data.get("softDescriptor"))
        if soft_descriptor is not None and not capture_now:
            raise invalid("softDescriptor can only be given with captureNow true.")
        merchant_metadata = None
        if data.get("merchantMetadata") is not None:
            merchant_metadata = parse_merchant_metadata(data["merchantMetadata"])
        provider_metadata = None
        if data.get("providerMetadata") is not None:
            provider = data["providerMetadata"]
            if not isinstance(provider, dict):
                raise invalid("providerMetadata must be an object {providerReferenceId}.")
            check_fields(provider, allowed=("providerReferenceId",), where="providerMetadata")
            if provider.get("providerReferenceId") is not None:
                parse_text(provider["providerReferenceId"], "providerMetadata.providerReferenceId")
            provider_metadata = {"providerReferenceId": provider.get("providerReferenceId")}
        platform_id = None
        if data.get("platformId") is not None:
            platform_id = parse_text(data["platformId"], "platformId", max_length=20)
        if simulation == "CaptureInitiated" and not capture_now:
            raise Refusal(
                400,
                "InvalidSandboxSimulationSpecified",
                "CaptureInitiated applies to Create Charge only with captureNow true.",
            )
        p = self._permission(permission_id, now)
        state, reason, _description = self._effective_permission_state(p)
        if state != "Chargeable":
            raise Refusal(
                422,
                "InvalidChargePermissionStatus",
                f"The Charge Permission is {state} ({reason}); a charge needs a Chargeable one.",
            )
        if amount.currency_code != p.currency_code:
            raise Refusal(
                400,
                "CurrencyMismatch",
                f"chargeAmount is in {amount.currency_code} but the Charge Permission is in {p.currency_code}.",
            )
        if len(p.charge_ids) >= MAX_CHARGES_PER_PERMISSION:
            raise Refusal(
                422,
                "TransactionCountExceeded",
                f"A Charge Permission allows at most {MAX_CHARGES_PER_PERMISSION} charges.",
            )
        balance = self.balance(p)
        if amount.amount > balance:
            raise Refusal(
                400,
                "TransactionAmountExceeded",
                f"chargeAmount {format_amount(amount.amount, amount.currency_code)} is over the Charge "
                f"Permission's balance of {format_amount(balance, p.currency_code)} {p.currency_code}.",
            )
        pending_outcome = None
        if simulation in DECLINE_REASONS:
            if not can_pend:
                if simulation == "AmazonRejected":
                    self._amazon_cancels(p, now)  # committed with the refusal
                raise Refusal(422, simulation, DECLINE_REASONS[simulation])
            pending_outcome = f"Declined:{simulation}"
        c = self._new_charge(
            p,
            amount,
            now,
            capture_now=capture_now,
            pending_outcome=pending_outcome,
            soft_descriptor=soft_descriptor,
            capture_initiated=simulation == "CaptureInitiated",
        )
        c.merchant_metadata, c.provider_metadata, c.platform_id = merchant_metadata, provider_metadata, platform_id
        self._record(
            "charges",
            {
                "chargeId": c.charge_id,
                "chargePermissionId": p.charge_permission_id,
                "amount": format_amount(c.amount, c.currency_code),
                "currencyCode": c.currency_code,
                "captureNow": capture_now,
                "idempotencyKey": idempotency_key,
            },
        )
        if capture_now and pending_outcome is None:
            self._record_capture(c, idempotency_key)
        self._settle_permission(p, now)
        return 201, self._charge_view(c)

    def _op_getCharge(self, *, now: datetime, resource_id: str | None, **_: Any) -> tuple[int, dict[str, Any]]:
        return 200, self._charge_view(self._charge(resource_id or "", now))

    def _op_captureCharge(
        self,
        *,
        now: datetime,
        resource_id: str | None,
        body: bytes,
        simulation: str | None,
        idempotency_key: str | None,
        **_: Any,
    ) -> tuple[int, dict[str, Any]]:
        data = parse_json_body(body)
        check_fields(data, allowed=("captureAmount", "softDescriptor"), required=("captureAmount",))
        amount = parse_money(data["captureAmount"], "captureAmount")
        soft_descriptor = parse_soft_descriptor(data.get("softDescriptor"))
        c = self._charge(resource_id or "", now)
        if c.state != "Authorized":
            raise Refusal(
                422,
                "InvalidChargeStatus",
                f"The Charge is {c.state}"
                + (f" ({c.reason_code})" if c.reason_code else "")
                + "; only an Authorized charge can be captured, and only once.",
            )
        if amount.currency_code != c.currency_code:
            raise Refusal(
                400,
                "CurrencyMismatch",
                f"captureAmount is in {amount.currency_code} but the Charge is in {c.currency_code}.",
            )
        if amount.amount > c.amount:
            raise Refusal(
                400,
                "TransactionAmountExceeded",
                f"captureAmount {format_amount(amount.amount, amount.currency_code)} is over the authorized "
                f"{format_amount(c.amount, c.currency_code)} {c.currency_code}.",
            )
        if simulation == "AmazonRejected":
            # Asynchronous, as Amazon's is: CaptureInitiated now, Declined (and the permission
            # canceled) once it resolves. No money moves, so no capture in the ledger.
            c.capture_amount = amount.amount
            c.soft_descriptor = soft_descriptor
            c.resolve_at, c.resolve_to = now + ASYNC_RESOLUTION, "Declined:AmazonRejected"
            self._set_charge_state(c, "CaptureInitiated", None, None, now)
            return 200, self._charge_view(c)
        c.capture_amount = amount.amount
        c.soft_descriptor = soft_descriptor
        late = c.authorized_at is not None and now - c.authorized_at > CAPTURE_INITIATED_AFTER
        if late or simulation == "CaptureInitiated":
            c.resolve_at, c.resolve_to = now + ASYNC_RESOLUTION, "Captured"
            self._set_charge_state(c, "CaptureInitiated", None, None, now)
        else:
            c.captured_at = now
            self._set_charge_state(c, "Captured", None, None, now)
        self._record_capture(c, idempotency_key)
        self._settle_permission(self.permissions[c.charge_permission_id], now)
        return 200, self._charge_view(c)

    def _op_cancelCharge(
        self, *, now: datetime, resource_id: str | None, body: bytes, **_: Any
    ) -> tuple[int, dict[str, Any]]:
        data = parse_json_body(body)
        check_fields(data, allowed=("cancellationReason",), required=("cancellationReason",))
        reason_text = parse_text(data["cancellationReason"], "cancellationReason")
        c = self._charge(resource_id or "", now)
        if c.state not in _RESERVING_STATES:
            raise Refusal(
                422,
                "InvalidChargeStatus",
                f"The Charge is {c.state}; only AuthorizationInitiated or Authorized charges can be canceled.",
            )
        c.resolve_at = c.resolve_to = None
        self._set_charge_state(c, "Canceled", "MerchantCanceled", reason_text, now)
        self._record("cancellations", {"chargeId": c.charge_id, "cancellationReason": reason_text})
        return 200, self._charge_view(c)

    def _op_createRefund(
        self, *, now: datetime, body: bytes, idempotency_key: str | None, **_: Any
    ) -> tuple[int, dict[str, Any]]:
        data = parse_json_body(body)
        check_fields(data, allowed=("chargeId", "refundAmount", "softDescriptor"), required=("chargeId", "refundAmount"))
        if not isinstance(data["chargeId"], str):
            raise invalid("chargeId must be a string.")
        amount = parse_money(data["refundAmount"], "refundAmount")
        soft_descriptor = parse_soft_descriptor(data.get("softDescriptor"))
        c = self._charge(data["chargeId"], now)
        if c.state != "Captured" or c.capture_amount is None:
            raise Refusal(
                422, "InvalidChargeStatus", f"The Charge is {c.state}; only a Captured charge can be refunded."
            )
        if amount.currency_code != c.currency_code:
            raise Refusal(
                400,
                "CurrencyMismatch",
                f"refundAmount is in {amount.currency_code} but the Charge is in {c.currency_code}.",
            )
        cap = self.refund_cap(c)
        already = self.refunded_total(c, include_pending=True)
        if already + amount.amount > cap:
            raise Refusal(
                400,
                "TransactionAmountExceeded",
                f"Refunds would total {format_amount(already + amount.amount, c.currency_code)} "
                f"{c.currency_code}; at most {format_amount(cap, c.currency_code)} can be refunded "
                "(captured amount plus the lesser of 15 % and the currency's fixed cap).",
            )
        r = o.Refund(
            refund_id=self._new_child_id(c.charge_permission_id, "R", self.refunds),
            charge_id=c.charge_id,
            created=now,
            updated=now,
            amount=amount.amount,
            currency_code=amount.currency_code,
            state="RefundInitiated",
            reason_code=None,
            reason_description=None,
            release_environment=c.release_environment,
            soft_descriptor=soft_descriptor,
            resolve_at=now + ASYNC_RESOLUTION,
            resolve_to="Refunded",
        )
        self.refunds[r.refund_id] = r
        c.refund_ids.append(r.refund_id)
        self._save("refund", r.refund_id, r)
        self._save("charge", c.charge_id, c)
        self._record(
            "refunds",
            {
                "refundId": r.refund_id,
                "chargeId": c.charge_id,
                "amount": format_amount(r.amount, r.currency_code),
                "currencyCode": r.currency_code,
                "idempotencyKey": idempotency_key,
            },
        )
        return 201, o.refund_json(r)

    def _op_getRefund(self, *, now: datetime, resource_id: str | None, **_: Any) -> tuple[int, dict[str, Any]]:
        r = self.refunds.get(resource_id or "")
        if r is None:
            raise not_found("Refund", resource_id or "")
        self._charge(r.charge_id, now)
        return 200, o.refund_json(r)

    def _op_deliveryTrackers(self, *, now: datetime, body: bytes, **_: Any) -> tuple[int, dict[str, Any]]:
        data = parse_json_body(body)
        check_fields(
            data, allowed=("chargePermissionId", "amazonOrderReferenceId", "deliveryDetails"), required=("deliveryDetails",)
        )
        permission_id = data.get("chargePermissionId")
        legacy_id = data.get("amazonOrderReferenceId")
        if (permission_id is None) == (legacy_id is None):
            raise Refusal(
                400,
                "MissingParameterValue" if permission_id is None else "InvalidParameterValue",
                "Give exactly one of chargePermissionId and amazonOrderReferenceId.",
            )
        target = permission_id if permission_id is not None else legacy_id
        if not isinstance(target, str):
            raise invalid("chargePermissionId must be a string.")
        details = data["deliveryDetails"]
        if not isinstance(details, list) or len(details) != 1 or not isinstance(details[0], dict):
            raise Refusal(
                400, "InvalidInputFormat", "deliveryDetails must be an array of exactly one {trackingNumber, carrierCode}."
            )
        detail = details[0]
        check_fields(detail, allowed=("trackingNumber", "carrierCode"), required=("trackingNumber", "carrierCode"), where="deliveryDetails")
        tracking = normalize_tracking_number(detail["trackingNumber"])
        carrier = detail["carrierCode"]
        if not isinstance(carrier, str) or carrier not in carrier_codes():
            raise invalid(f"carrierCode {carrier!r} is not a carrier code Amazon Pay knows (e.g. UPS).")
        if target not in self.permissions:
            raise invalid(f"Charge Permission {target!r} does not exist.")
        key = f"{carrier}:{tracking.upper()}"
        if key in self.trackers:
            raise invalid(f"Tracking number {tracking!r} of {carrier} is already registered.")
        t = o.DeliveryTracker(
            charge_permission_id=permission_id,
            amazon_order_reference_id=legacy_id,
            tracking_number=tracking,
            carrier_code=carrier,
            created=now,
        )
        self.trackers[key] = t
        self._save("tracker", key, t)
        self._record(
            "trackers",
            {"chargePermissionId": target, "trackingNumber": tracking, "carrierCode": carrier},
        )
        return 200, o.tracker_json(t)

    # ------------------------------------------------------------------ the control side

    def create_checkout_session(
        self,
        *,
        amount: Money,
        payment_intent: str = "Authorize",
        outcome: str = "Completed",
        buyer: dict[str, Any] | None = None,
        shipping_address: dict[str, Any] | None = None,
        merchant_reference_id: str | None = None,
        merchant_store_name: str = "Merchant Desk Sandbox Shop",
        payment_descriptor: str = "Visa ****1111",
        created: datetime | None = None,
        live: bool = False,
        total_order_amount: Money | None = None,
        can_handle_pending_authorization: bool = False,
        charge_permission_type: str = "OneTime",
    ) -> o.CheckoutSession:
        """An order as a buyer would leave it (``/_sandbox/checkout-sessions``)."""
        if payment_intent not in ("Authorize", "AuthorizeWithCapture", "Confirm"):
            raise invalid("paymentIntent must be Authorize, AuthorizeWithCapture or Confirm.")
        outcomes = ("Completed", "Open", "AuthorizationInitiated", *CANCELED_SESSION_REASONS)
        if outcome not in outcomes:
            raise invalid(f"outcome must be one of {', '.join(outcomes)}.")
        if outcome == "AuthorizationInitiated" and payment_intent == "Confirm":
            raise invalid("outcome AuthorizationInitiated needs paymentIntent Authorize or AuthorizeWithCapture.")
        if charge_permission_type not in ("OneTime", "Recurring"):
            raise invalid("chargePermissionType must be OneTime or Recurring.")
        if total_order_amount is not None and total_order_amount.currency_code != amount.currency_code:
            raise invalid("totalOrderAmount must be in the currency of amount.")
        with self.transaction():
            now = created or self.now()
            number = len(self.sessions) + len(self.permissions) + 1001
            buyer_doc = {
                "buyerId": f"amzn1.account.SANDBOX{self._digits(10)}",
                "name": "Alex Sandbox",
                "email": "alex.sandbox@example.com",
                "phoneNumber": None,
                "primeMembershipTypes": None,
            }
            buyer_doc.update(buyer or {})
            address = shipping_address or {
                **storefront.SANDBOX_ADDRESS, "name": buyer_doc["name"]
            }
            s = o.CheckoutSession(
                checkout_session_id=self._new_session_id(),
                created=now,
                updated=now,
                amount=amount.amount,
                currency_code=amount.currency_code,
                payment_intent=payment_intent,
                state="Open",
                reason_code=None,
                reason_description=None,
                buyer=buyer_doc,
                shipping_address=address,
                billing_address=None,
                payment_descriptor=payment_descriptor,
                merchant_metadata={
                    "merchantReferenceId": merchant_reference_id or f"#{number}",
                    "merchantStoreName": merchant_store_name,
                    "noteToBuyer": None,
                    "customInformation": None,
                },
                release_environment="Live" if live else "Sandbox",
                can_handle_pending_authorization=can_handle_pending_authorization,
                total_order_amount=total_order_amount.amount if total_order_amount else None,
                charge_permission_type=charge_permission_type,
            )
            self.sessions[s.checkout_session_id] = s
            self._save("session", s.checkout_session_id, s)
            if outcome in CANCELED_SESSION_REASONS:
                self._set_session_state(s, "Canceled", outcome, now)
            elif outcome != "Open":
                self._complete(s, now, live=live, pending=outcome == "AuthorizationInitiated", record=False)
            return s

    def session_view(self, session_id: str) -> dict[str, Any]:
        """Get Checkout Session's JSON, for the control side and tests."""
        with self.transaction():
            return o.session_json(self._session(session_id, self.now()))

    def permission_view(self, permission_id: str) -> dict[str, Any]:
        """Get Charge Permission's JSON, for tests."""
        with self.transaction():
            now = self.now()
            return self._permission_view(self._permission(permission_id, now), now)

    def charge_view(self, charge_id: str) -> dict[str, Any]:
        """Get Charge's JSON, for tests."""
        with self.transaction():
            return self._charge_view(self._charge(charge_id, self.now()))

    def decide_refund(self, refund_id: str, reason_code: str | None = None) -> None:
        """Make a pending refund end ``Declined`` with ``reason_code`` (``None``: ``Refunded``).

        Amazon documents no simulation code for refunds, so the API cannot ask for a declined
        one; tests and demos decide it here, before the refund settles.
        """
        with self.transaction():
            r = self.refunds.get(refund_id)
            if r is None:
                raise not_found("Refund", refund_id)
            if r.state != "RefundInitiated":
                raise invalid(f"Refund {refund_id} is {r.state}; only a RefundInitiated one can be decided.")
            if reason_code is not None and reason_code not in ("AmazonRejected", "ProcessingFailure"):
                raise invalid("A refund is declined AmazonRejected or ProcessingFailure.")
            r.resolve_to = "Refunded" if reason_code is None else f"Declined:{reason_code}"
            self._save("refund", r.refund_id, r)

    def check_invariants(self) -> None:
        """Raise AssertionError if the money rules were ever broken (property tests call this)."""
        with self.transaction():
            now = self.now()
            for p in self.permissions.values():
                self._settle_permission(p, now)
                assert self.balance(p) >= 0, f"{p.charge_permission_id}: negative balance"
                assert len(p.charge_ids) <= MAX_CHARGES_PER_PERMISSION
                assert self._captured_total(p) <= p.amount_limit
            captures: dict[str, int] = {}
            for which, entry in self.ledger_entries:
                if which == "captures":
                    captures[entry["chargeId"]] = captures.get(entry["chargeId"], 0) + 1
            for charge_id, count in captures.items():
                assert count == 1, f"{charge_id} captured {count} times"
            for c in self.charges.values():
                if c.capture_amount is not None:
                    assert c.capture_amount <= c.amount, f"{c.charge_id}: captured over authorized"
                if c.state == "Captured":
                    assert c.capture_amount is not None
                    assert self.refunded_total(c, include_pending=True) <= self.refund_cap(c)
