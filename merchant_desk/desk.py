"""The use cases: verify, complete, capture, add tracking, refresh, import, resume.

``Desk`` composes the signed client (the wire) and the store (cache + journal). It knows
nothing of Qt: it emits plain frozen events to subscribers, which the window re-emits as
signals. Every money operation goes the same way (ARCHITECTURE "The job, as data flows"):
rules first (nothing is sent when input is invalid), then a journal intent with its
idempotency key committed before the request leaves, then the call, then the cache and the
journal outcome. A crash in between leaves a pending intent that :meth:`Desk.resume_pending`
re-sends with the same key, so Amazon answers with the first result instead of acting twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import meanings, rules
from .amazonpay.errors import ApiError, InvalidResponse, TransportError
from .amazonpay.models import Charge, ChargePermission, CheckoutSession, DeliveryTracker
from .events import CacheReset, DeskEvent, OrdersChanged, PendingCount, Progress
from .meanings import Explanation, ObjectKind
from .money import Money
from .rules import IdKind, RuleError
from .store import Intent, OrderRef, OrderRow, Store, TimelineEntry, open_database
from .store.orders import OrderDetail as StoredDetail

if TYPE_CHECKING:  # the wire (httpx, the signed client) is imported when the desk connects
    from .amazonpay.client import AmazonPayClient

log = logging.getLogger(__name__)

CAPTURE = "captureCharge"
COMPLETE = "completeCheckoutSession"
TRACK = "deliveryTrackers"
MONEY_OPERATIONS = (CAPTURE, COMPLETE, TRACK)

DEMO_PUBLIC_KEY_ID = "SANDBOX-DEMOKEY000000000000000"

#: How old a settled order's cached charge permission may get before refresh reads it again
#: (when its charge has not changed; a changed charge always re-reads it).
PERMISSION_MAX_AGE = timedelta(hours=12)

#: Bulk refresh reads the cached rows of this many orders in one query, as it reaches them (one
#: row at a time cost ~30 us an order, in a block ~17; the block is read just before its orders
#: are refreshed, so a row is at most a block's refreshes old when it is used).
REFRESH_ROW_BLOCK = 64


# --------------------------------------------------------------------------- errors


class DeskError(Exception):
    """A use case could not go ahead; ``explanation`` says what it means and what to do."""

    def __init__(self, message: str, explanation: Explanation | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.explanation = explanation


class ActionNotAllowed(DeskError):
    """Amazon's state does not allow this action now (e.g. capture on a Captured charge)."""


class OperationPending(DeskError):
    """An earlier attempt of the same operation has no known outcome: resume it first."""

    def __init__(self, intent: Intent) -> None:
        super().__init__(
            f"An earlier {intent.operation} on {intent.object_id} (journal #{intent.intent_id}) "
            "has no known outcome yet. Resume pending operations first: Merchant Desk re-sends "
            "it with the same idempotency key, so nothing is done twice."
        )
        self.intent = intent


class OutcomeUnknown(DeskError):
    """The request may or may not have reached Amazon; it is left pending in the journal."""

    def __init__(self, intent: Intent, cause: BaseException) -> None:
        super().__init__(
            f"No answer from Amazon Pay for {intent.operation} on {intent.object_id} ({cause}). "
            f"It is kept as pending operation #{intent.intent_id}: resume it when the "
            "connection is back; Amazon will answer with the first result, never a second charge."
        )
        self.intent = intent
        self.cause = cause


# --------------------------------------------------------------------------- read models


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """What the list shows: a search, filters, a sort (a key of ``store.SORT_COLUMNS``), a page."""

    search: str | None = None
    states: frozenset[str] = frozenset()
    created_from: date | datetime | None = None
    created_to: date | datetime | None = None
    sort: str = "created"
    descending: bool = True
    #: None: every matching row (the list model holds all IDs and loads rows lazily)
    limit: int | None = 200
    offset: int = 0


@dataclass(frozen=True, slots=True)
class TimelineItem:
    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """Everything the detail panel shows about one order."""

    row: OrderRow
    explanation: Explanation
    buyer_name: str | None
    buyer_email: str | None
    shipping_address: tuple[str, ...]
    payment_descriptor: str | None
    timeline: tuple[TimelineItem, ...]
    stored: StoredDetail = field(repr=False)
    #: None when capture is possible, else why not (plain words)
    capture_blocked: str | None = None
    #: None when tracking can be added, else why not
    tracking_blocked: str | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's checklist."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class DaySummary:
    counts: dict[str, int]
    awaiting_capture: dict[str, Decimal]


@dataclass(slots=True)
class RefreshReport:
    total: int = 0
    verified: int = 0
    gone: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    #: Amazon Pay could not be reached (after the client's retries): the rest was not tried.
    unreachable: str | None = None


@dataclass(slots=True)
class ImportReport:
    found: int = 0
    added: int = 0
    already_known: int = 0
    verified: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    unreachable: str | None = None


@dataclass(frozen=True, slots=True)
class ResumeResult:
    intent_id: int
    operation: str
    object_id: str
    #: ``succeeded``, ``refused`` (Amazon's reasonCode and message in ``message``) or
    #: ``unknown`` (still no answer: it stays pending)
    status: str
    message: str
    #: the operation in the operator's words: "Capture 14.00 USD", "Add tracking UPS 1Z…"
    description: str = ""


# --------------------------------------------------------------------------- the desk


class Desk:
    """The operator's use cases over one Amazon Pay account and one data directory."""

    def __init__(
        self,
        client: AmazonPayClient | None,
        store: Store,
        *,
        environment_label: str,
        keyring_backend: str = "unknown",
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._client = client
        self.store = store
        self.orders = store.orders
        self.journal = store.journal
        self.environment_label = environment_label
        self._keyring_backend = keyring_backend
        self._listeners: list[Callable[[DeskEvent], None]] = []
        self._on_close = on_close
        #: The embedded emulator in demo mode (tests and the demo reach its controls), else None.
        self.emulator: Any = None
        #: Where the private key came from, in words: "the key file ...", "the system keyring"...
        self.key_source = "a key given by the caller"
        self.last_refresh: datetime | None = None
        #: Refresh re-reads a settled order's charge permission when its copy is this old.
        self.permission_max_age = PERMISSION_MAX_AGE
        #: The cache reset found on open, for whoever subscribes later (the window).
        self.cache_reset: CacheReset | None = None
        if store.cache_reset is not None:
            self.cache_reset = CacheReset(str(store.cache_reset.moved_to), store.cache_reset.message())

    @property
    def client(self) -> AmazonPayClient:
        """The signed client; :class:`DeskError` before :meth:`connect` has given it one."""
        if self._client is None:
            raise DeskError(
                "Merchant Desk is not connected to Amazon Pay yet. Wait a moment and try "
                "again; if it stays so, open Settings and use Test connection."
            )
        return self._client

    @property
    def connected(self) -> bool:
        """True once the desk has its signed client (reading the cache needs none)."""
        return self._client is not None

    # ------------------------------------------------------------------ construction

    @classmethod
    def open_local(cls, data_dir: Path, *, environment_label: str) -> Desk:
        """A desk on the data directory alone: the list, details and journal, no client yet.

        The window paints the cached orders from it at once, then :meth:`connect` (keyring,
        key, HTTP client) runs while the operator already sees the list.
        """
        return cls(None, open_database(data_dir), environment_label=environment_label)

    @classmethod
    async def open(
        cls,
        settings: Any,
        *,
        data_dir: Path,
        passphrase: str | None = None,
        transport: Any = None,
        pacer: Any = True,
        retry: Any = None,
        private_key: Any = None,
        sign_on_thread: bool = True,
    ) -> Desk:
        """A desk on real credentials: the key from ``settings.private_key_file`` or secrets.

        ``private_key`` (an already loaded RSA key, with ``settings.public_key_id``) is for
        checking a key before it is stored: the window's Settings > Test connection.
        ``sign_on_thread``: see :class:`AmazonPayClient` (the window signs on its loop).
        """
        # the credentials first: a key that does not load leaves no store open
        config, key_source = _client_config(settings, data_dir, passphrase, private_key)
        desk = cls.open_local(data_dir, environment_label=config.effective_environment.upper())
        try:
            desk._attach_client(config, key_source, transport=transport, pacer=pacer,
                                retry=retry, sign_on_thread=sign_on_thread)
        except BaseException:
            desk.store.close()
            raise
        return desk

    async def connect(
        self,
        settings: Any,
        *,
        passphrase: str | None = None,
        transport: Any = None,
        pacer: Any = True,
        retry: Any = None,
        private_key: Any = None,
        sign_on_thread: bool = True,
    ) -> None:
        """Give a desk from :meth:`open_local` its signed client (as :meth:`open` does)."""
        if self._client is not None:
            raise DeskError("This desk is already connected.")
        config, key_source = _client_config(settings, self.store.data_dir, passphrase,
                                            private_key)
        self._attach_client(config, key_source, transport=transport, pacer=pacer, retry=retry,
                            sign_on_thread=sign_on_thread)

    def _attach_client(self, config: Any, key_source: str, *, transport: Any, pacer: Any,
                       retry: Any, sign_on_thread: bool) -> None:
        from . import secrets
        from .amazonpay.client import AmazonPayClient

        options: dict[str, Any] = {"transport": transport, "pacer": pacer,
                                   "sign_on_thread": sign_on_thread}
        if retry is not None:
            options["retry"] = retry
        self._client = AmazonPayClient(config, **options)
        self.environment_label = config.effective_environment.upper()
        self._keyring_backend = _keyring_label(secrets.keyring_status())
        self.key_source = key_source

    @classmethod
    async def open_demo(cls, data_dir: Path, *, region: str = "na") -> Desk:
        """A desk on the embedded emulator (in-process), with its sample orders cached.

        The emulator keeps its data in ``data_dir/emulator.sqlite3`` so the demo orders are
        the same from one start to the next; a throwaway key is generated for each start
        (registered only in the emulator's memory, never written anywhere).
        """
        from .settings import ensure_private_dir

        ensure_private_dir(data_dir)
        desk = cls.open_local(data_dir, environment_label="DEMO")
        try:
            await desk.connect_demo(region=region)
        except BaseException:
            await desk.aclose()
            raise
        return desk

    async def connect_demo(self, *, region: str = "na") -> None:
        """Connect a desk from :meth:`open_local` to the embedded emulator (see :meth:`open_demo`)."""
        import httpx
        from cryptography.hazmat.primitives.asymmetric import rsa

        from . import secrets
        from .amazonpay.client import AmazonPayClient, ClientConfig
        from .sandbox.app import create_app

        if self._client is not None:
            raise DeskError("This desk is already connected.")
        data_dir = self.store.data_dir
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        app = create_app(
            keys={DEMO_PUBLIC_KEY_ID: key.public_key()},
            state_file=str(data_dir / "emulator.sqlite3"),
            throttle=False,
            seed=True,
            region=region,
        )
        config = ClientConfig(
            public_key_id=DEMO_PUBLIC_KEY_ID,
            private_key=key,
            region=region,
            environment="sandbox",
            endpoint="http://127.0.0.1",
        )

        async def close_emulator() -> None:
            app.state.emulator.world.close()

        # the emulator answers on this same loop: no signing thread beside it (the window's
        # loop, see AmazonPayClient._sign)
        self._client = AmazonPayClient(config, transport=httpx.ASGITransport(app=app),
                                       pacer=False, sign_on_thread=False)
        self._on_close = close_emulator
        self.environment_label = "DEMO"
        self._keyring_backend = _keyring_label(secrets.keyring_status())
        self.emulator = app.state.emulator
        self.key_source = "a throwaway demo key (never stored)"
        # The emulator plays the shop's order export: cache whatever the desk does not know.
        session_ids = sorted(app.state.emulator.world.sessions)
        missing = [sid for sid in session_ids if not self.orders.find_order_ids(sid)]
        if missing:
            await self.import_ids("\n".join(missing))

    async def aclose(self) -> None:
        """Close the client and the store (on the loop that used the client)."""
        try:
            if self._client is not None:
                await self._client.aclose()
            if self._on_close is not None:
                await self._on_close()
        finally:
            self.store.close()

    def _record_intent(self, operation: str, object_id: str, request: dict[str, Any], *,
                       idempotent: bool) -> int:
        """Journal a money operation before it is sent, with a fresh idempotency key when the
        operation takes one. Refused (nothing journaled) while the desk has no client."""
        _ = self.client  # DeskError: never an intent without a way to send it
        from .amazonpay.client import new_idempotency_key

        key = new_idempotency_key() if idempotent else None
        return self.journal.record_intent(operation, object_id, request, key)

    # ------------------------------------------------------------------ events

    def subscribe(self, callback: Callable[[DeskEvent], None]) -> Callable[[], None]:
        """Call ``callback`` with every event; returns the function that unsubscribes."""
        self._listeners.append(callback)
        if self.cache_reset is not None:
            callback(self.cache_reset)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(callback)

        return unsubscribe

    def _emit(self, event: DeskEvent) -> None:
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception:  # a broken listener must not break a money operation
                log.exception("desk event listener failed on %r", event)

    def _emit_changed(self, object_id: str) -> None:
        ids = tuple(self.orders.find_order_ids(object_id))
        if ids:
            self._emit(OrdersChanged(ids))

    def _emit_pending(self) -> None:
        self._emit(PendingCount(self.journal.pending_count()))

    # ------------------------------------------------------------------ read side

    def list_order_ids(self, query: OrderQuery) -> list[str]:
        return self.orders.list_order_ids(
            search=query.search or None,
            states=query.states or None,
            created_from=query.created_from,
            created_to=query.created_to,
            sort_column=query.sort,
            descending=query.descending,
            limit=-1 if query.limit is None else query.limit,  # SQLite: LIMIT -1 is no limit
            offset=query.offset,
        )

    def count_orders(self, query: OrderQuery) -> int:
        return self.orders.count_orders(
            search=query.search or None,
            states=query.states or None,
            created_from=query.created_from,
            created_to=query.created_to,
        )

    def order_rows(self, ids: Sequence[str]) -> dict[str, OrderRow]:
        return self.orders.get_order_rows(ids)

    def order_detail(self, order_id: str) -> OrderDetail | None:
        stored = self.orders.get_order(order_id)
        if stored is None:
            return None
        row = stored.row
        buyer = stored.buyer
        address = stored.shipping_address
        object_ids = [
            i for i in (row.order_id, row.checkout_session_id, row.charge_permission_id) if i
        ]
        object_ids += [c.charge_id for c in stored.charges]
        return OrderDetail(
            row=row,
            explanation=explain_row(row),
            buyer_name=(buyer.name if buyer else None) or row.buyer_name,
            buyer_email=(buyer.email if buyer else None) or row.buyer_email,
            shipping_address=tuple(address.lines()) if address else (),
            payment_descriptor=stored.payment_descriptor,
            timeline=tuple(_timeline_item(e) for e in self.journal.timeline(object_ids)),
            stored=stored,
            capture_blocked=capture_blocked(row),
            tracking_blocked=tracking_blocked(row),
        )

    def day_summary(self) -> DaySummary:
        return DaySummary(self.orders.counts_by_state(), self.orders.total_awaiting_capture())

    def pending_count(self) -> int:
        return self.journal.pending_count()

    def pending_operations(self) -> list[Intent]:
        return self.journal.pending()

    def keyring_backend(self) -> str:
        return self._keyring_backend

    # ------------------------------------------------------------------ verify

    async def verify(self, checkout_session_id: str, *, notify: bool = True) -> OrderRow:
        """Get Checkout Session (and, once Completed, its Charge Permission and Charge); cache.

        A 404 for an order already in the cache marks it "no longer on Amazon" (Amazon deletes
        sessions after 30 days) and returns its row; for an unknown ID the ApiError is raised.
        """
        sid = rules.check_checkout_session_id(checkout_session_id)
        try:
            session = await self.client.get_checkout_session(sid)
        except ApiError as error:
            if error.status == 404 and self.orders.find_order_ids(sid):
                ids = self.orders.mark_gone(sid)
                if notify:
                    self._emit(OrdersChanged(tuple(ids)))
                return self._row(ids[0])
            raise
        self.orders.upsert_checkout_session(session)
        await self._follow_session(session)
        order_ids = self.orders.find_order_ids(sid)
        if notify:
            self._emit(OrdersChanged(tuple(order_ids)))
        return self._row(order_ids[0] if order_ids else sid)

    async def _follow_session(self, session: CheckoutSession) -> None:
        """Read the permission and the charge a Completed session points at."""
        if session.charge_permission_id:
            await self._read_permission(session.charge_permission_id)
        if session.charge_id:
            await self._read_charge(session.charge_id)

    async def _read_permission(
        self, permission_id: str, *, gone_on_404: bool = False
    ) -> ChargePermission | None:
        try:
            permission = await self.client.get_charge_permission(permission_id)
        except ApiError as error:
            if error.status == 404:
                # only an order known by its permission alone is "gone" when it is; a session
                # Amazon still answers for keeps its order alive
                if gone_on_404:
                    self.orders.mark_gone(permission_id)
                return None
            raise
        self.orders.upsert_charge_permission(permission)
        return permission

    async def _read_charge(self, charge_id: str) -> Charge | None:
        try:
            charge = await self.client.get_charge(charge_id)
        except ApiError as error:
            if error.status == 404:
                return None
            raise
        self.orders.upsert_charge(charge)
        return charge

    async def verify_order(self, order_id: str, *, notify: bool = True) -> OrderRow:
        """Verify an order by whatever IDs it has (a session, or a permission/charge alone)."""
        return await self._verify_row(self._row(order_id), notify=notify)

    async def _verify_row(self, row: OrderRow, *, notify: bool) -> OrderRow:
        """:meth:`verify_order` on the order's cached row, already read."""
        order_id = row.order_id
        if row.checkout_session_id:
            return await self.verify(row.checkout_session_id, notify=notify)
        if row.charge_permission_id:
            await self._read_permission(row.charge_permission_id, gone_on_404=True)
        if row.charge_id:
            await self._read_charge(row.charge_id)
        if notify:
            self._emit(OrdersChanged((order_id,)))
        return self._row(order_id)

    async def _refresh_order(self, order_id: str, row: OrderRow | None = None) -> OrderRow:
        """Read only what can have changed since the order was last verified (refresh's rule).

        - Never verified, an Open session, or no charge known yet: the full read of
          :meth:`verify_order` (an Open session may have been completed or expired since; a
          404 marks the order gone).
        - A Completed session is final on Amazon's side (until it is deleted after 30 days, by
          which time its authorization has expired and the charge is final): only the charge
          moves, so Get Charge alone, one request.
        - The charge permission only when the charge changed (a capture or decline may close
          or exhaust it), or when the cached copy is older than :attr:`permission_max_age` and
          not Closed (a shop may close it from Seller Central; it expires after 180 days).

        :meth:`verify` and :meth:`verify_order` keep their meaning: an explicit verification
        reads everything again.

        ``row``: the order's cached row when the caller has just read it (bulk refresh reads
        them in blocks), else it is read here.
        """
        if row is None:
            row = self._row(order_id)
        settled = row.last_verified_at is not None and (
            row.session_state == "Completed"
            or (row.checkout_session_id is None and row.charge_permission_state is not None)
        )
        if not settled or not row.charge_id:
            return await self._verify_row(row, notify=False)
        try:
            charge = await self.client.get_charge(row.charge_id)
        except ApiError as error:
            if error.status != 404:
                raise
            # 404: let the full read find out whether the order is gone
            return await self.verify_order(order_id, notify=False)
        stored = self.orders.upsert_charge(charge)
        changed = (charge.state, charge.status.reason_code) != (row.charge_state, row.charge_reason)
        verified_at = row.last_verified_at or datetime.min.replace(tzinfo=UTC)
        stale = (
            row.charge_permission_state != "Closed"
            and datetime.now(UTC) - verified_at >= self.permission_max_age
        )
        if row.charge_permission_id and (changed or stale or row.charge_permission_state is None):
            await self._read_permission(
                row.charge_permission_id, gone_on_404=row.checkout_session_id is None
            )
        elif not stored:
            # The charge as cached (most of a refresh): the cache kept the order as it was.
            return row
        return self._row(order_id)

    def _row(self, order_id: str) -> OrderRow:
        row = self.orders.get_order_rows([order_id]).get(order_id)
        if row is None:
            raise DeskError(f"Order {order_id} is not in the local cache.")
        return row

    # ------------------------------------------------------------------ money operations

    async def capture(
        self,
        charge_id: str,
        amount: str | Decimal | Money,
        currency: str,
        soft_descriptor: str | None = None,
    ) -> Charge:
        """Capture Charge, exactly once. Rules first; nothing is sent if any fails.

        Raises :class:`RuleError` (bad input), :class:`ActionNotAllowed` (the charge is not
        Authorized), :class:`OperationPending`, :class:`ApiError` (Amazon refused),
        :class:`OutcomeUnknown` (no answer: left pending in the journal).
        """
        charge_id = rules.check_charge_id(charge_id)
        value = rules.check_capture_amount(amount, currency, None)  # data-free checks first
        descriptor = rules.check_soft_descriptor(soft_descriptor)
        pending = self.journal.find_pending(CAPTURE, charge_id)
        if pending is not None:
            raise OperationPending(pending)
        charge_currency, state, authorized = self._cached_charge(charge_id)
        if authorized is None or state != "Authorized":
            # the cache may be stale or silent: only now read the charge (REFERENCE: the only
            # check that needs data, and only when the cache does not know)
            charge = await self.client.get_charge(charge_id)
            self.orders.upsert_charge(charge)
            self._emit_changed(charge_id)
            state = charge.state
            authorized = charge.capturable_amount
            charge_currency = charge.charge_amount.currency_code if charge.charge_amount else None
        if state != "Authorized":
            explanation = meanings.explain(ObjectKind.CHARGE, state)
            raise ActionNotAllowed(
                f"This charge is {state}: only an Authorized charge can be captured.",
                explanation,
            )
        value = rules.check_capture_amount(
            value, currency, authorized, charge_currency=charge_currency
        )
        request = {
            "chargeId": charge_id,
            "captureAmount": value.to_json(),
            "softDescriptor": descriptor,
        }
        intent_id = self._record_intent(CAPTURE, charge_id, request, idempotent=True)
        self.journal.audit("capture requested", charge_id, request)
        self._emit_pending()
        return await self._send(self._intent(intent_id))

    async def add_tracking(
        self, charge_permission_id: str, carrier_code: str, tracking_number: str
    ) -> DeliveryTracker:
        """Delivery Tracker: carrier from Amazon's list, tracking number checked, journaled."""
        pid = rules.check_charge_permission_id(charge_permission_id)
        carrier = rules.check_carrier(carrier_code)
        number = rules.check_tracking_number(tracking_number)
        pending = self.journal.find_pending(TRACK, pid)
        if pending is not None:
            raise OperationPending(pending)
        request = {
            "chargePermissionId": pid,
            "deliveryDetails": [{"trackingNumber": number, "carrierCode": carrier.code}],
        }
        intent_id = self._record_intent(TRACK, pid, request, idempotent=False)
        self.journal.audit("tracking requested", pid, request)
        self._emit_pending()
        return await self._send(self._intent(intent_id))

    async def complete(self, checkout_session_id: str) -> OrderRow:
        """Complete Checkout Session for an Open session, with the session's own amount."""
        sid = rules.check_checkout_session_id(checkout_session_id)
        pending = self.journal.find_pending(COMPLETE, sid)
        if pending is not None:
            raise OperationPending(pending)
        session = await self.client.get_checkout_session(sid)
        self.orders.upsert_checkout_session(session)
        if session.state != "Open":
            raise ActionNotAllowed(
                f"This checkout is {session.state}: only an Open checkout can be completed.",
                meanings.explain(ObjectKind.CHECKOUT_SESSION, session.state, session.status.reason_code),
            )
        if session.charge_amount is None:
            raise ActionNotAllowed("Amazon did not report this checkout's amount; verify it again.")
        request = {"checkoutSessionId": sid, "chargeAmount": session.charge_amount.to_json()}
        intent_id = self._record_intent(COMPLETE, sid, request, idempotent=False)
        self.journal.audit("complete requested", sid, request)
        self._emit_pending()
        await self._send(self._intent(intent_id))
        return self._row(self.orders.find_order_ids(sid)[0])

    async def charge_currency(self, charge_id: str) -> str:
        """The currency of a charge: from the cache, else read from Amazon (and cached)."""
        charge_id = rules.check_charge_id(charge_id)
        currency, _, _ = self._cached_charge(charge_id)
        if currency:
            return currency
        charge = await self.client.get_charge(charge_id)
        self.orders.upsert_charge(charge)
        if charge.charge_amount is None:
            raise ActionNotAllowed("Amazon did not report this charge's amount; verify it again.")
        return charge.charge_amount.currency_code

    async def doctor(self) -> list[Check]:
        """The connection checks: keyring, key, clock skew, and a signed call Amazon accepts."""
        from . import secrets

        checks: list[Check] = []
        status = secrets.keyring_status()
        uses_keyring = "keyring" in self.key_source
        detail = _keyring_label(status)
        if not status.usable:
            detail += f": {status.reason}"
            if not uses_keyring:
                detail += f" Not needed now: the key comes from {self.key_source}."
        checks.append(Check("Keyring", status.usable or not uses_keyring, detail))
        from .amazonpay import signing

        checks.append(
            Check(
                "Private key",
                True,
                f"RSA {self.client.config.private_key.key_size} bits, "
                f"{signing.fingerprint(self.client.config.private_key)}, "
                f"public key ID {self.client.config.public_key_id}, from {self.key_source}",
            )
        )
        probe = "00000000-0000-4000-8000-000000000000"
        signed_ok: Check
        try:
            await self.client.get_checkout_session(probe)
            signed_ok = Check("Signed request", False, "An unknown session was found?")
        except ApiError as error:
            accepted = error.status == 404 and error.reason_code == "ResourceNotFound"
            signed_ok = Check(
                "Signed request",
                accepted,
                "Amazon Pay accepted the signature (404 ResourceNotFound for a test ID)"
                if accepted
                else f"{error.status} {error.reason_code}: {error.message}",
            )
        except (TransportError, InvalidResponse) as error:
            signed_ok = Check("Signed request", False, f"No usable answer: {error}")
        server_date = self.client.last_server_date
        if server_date is None:
            checks.append(Check("Clock", True, "The service sent no Date header to compare with."))
        else:
            skew = (datetime.now(UTC) - server_date).total_seconds()
            checks.append(
                Check(
                    "Clock",
                    abs(skew) < 300,
                    f"{skew:+.0f} s against Amazon Pay's clock"
                    + ("" if abs(skew) < 300 else ": set this computer's clock right"),
                )
            )
        checks.append(signed_ok)
        return checks

    def _cached_charge(self, charge_id: str) -> tuple[str | None, str | None, Money | None]:
        """(currency, state, authorized amount) of a charge as the cache knows it."""
        for order_id in self.orders.find_order_ids(charge_id):
            row = self.orders.get_order_rows([order_id]).get(order_id)
            if row is not None and row.charge_id == charge_id:
                authorized = (Money(row.authorized_amount, row.currency)
                              if row.authorized_amount is not None and row.currency else None)
                return row.currency, row.charge_state, authorized
        return None, None, None

    def _intent(self, intent_id: int) -> Intent:
        intent = self.journal.get_intent(intent_id)
        assert intent is not None
        return intent

    async def _send(self, intent: Intent, *, resumed: bool = False) -> Any:
        """Send a journaled intent (first time or resumed) and record what came back."""
        try:
            result = await self._dispatch(intent)
        except ApiError as error:
            if error.retryable:
                # throttled or a server error even after the client's retries: did it happen?
                self._record_unknown(intent, error)
                raise OutcomeUnknown(self._intent(intent.intent_id), error) from error
            reconciled = await self._reconcile(intent, error) if resumed else None
            if reconciled is not None:
                return reconciled
            self.journal.record_outcome(
                intent.intent_id,
                "refused",
                reason_code=error.reason_code,
                message=error.message,
                request_id=error.request_id,
                http_status=error.status,
            )
            self.journal.audit(
                f"{intent.operation} refused",
                intent.object_id,
                {"reasonCode": error.reason_code, "message": error.message},
            )
            self._emit_pending()
            raise
        except (TransportError, InvalidResponse) as error:
            self._record_unknown(intent, error)
            raise OutcomeUnknown(self._intent(intent.intent_id), error) from error
        self._succeeded(intent, result)
        return result

    def _record_unknown(self, intent: Intent, error: BaseException) -> None:
        self.journal.record_outcome(
            intent.intent_id,
            "unknown",
            reason_code=getattr(error, "reason_code", None),
            message=str(error),
            http_status=getattr(error, "status", None),
        )
        self.journal.audit(f"{intent.operation} outcome unknown", intent.object_id, str(error))
        self._emit_pending()

    def _succeeded(self, intent: Intent, result: Any) -> None:
        if isinstance(result, Charge):
            self.orders.upsert_charge(result)
        elif isinstance(result, CheckoutSession):
            self.orders.upsert_checkout_session(result)
        elif isinstance(result, DeliveryTracker):
            self.orders.record_delivery_tracker(result)
        meta = self.client.last_response
        self.journal.record_outcome(
            intent.intent_id,
            "succeeded",
            response=dict(result.raw),
            request_id=meta.request_id if meta else None,
            http_status=meta.status if meta else None,
        )
        self.journal.audit(f"{intent.operation} succeeded", intent.object_id)
        self._emit_pending()
        self._emit_changed(intent.object_id)

    async def _dispatch(self, intent: Intent) -> Any:
        request = intent.request
        if intent.operation == CAPTURE:
            money = request["captureAmount"]
            return await self.client.capture_charge(
                intent.object_id,
                Money.of(money["amount"], money["currencyCode"]),
                soft_descriptor=request.get("softDescriptor"),
                idempotency_key=intent.idempotency_key,
            )
        if intent.operation == TRACK:
            detail = request["deliveryDetails"][0]
            return await self.client.create_delivery_tracker(
                intent.object_id, detail["trackingNumber"], detail["carrierCode"]
            )
        if intent.operation == COMPLETE:
            money = request["chargeAmount"]
            session = await self.client.complete_checkout_session(
                intent.object_id, Money.of(money["amount"], money["currencyCode"])
            )
            # completing may create a permission and a charge: cache them too
            await self._follow_session(session)
            return session
        raise DeskError(f"Merchant Desk cannot resume a {intent.operation!r} operation.")

    async def _reconcile(self, intent: Intent, error: ApiError) -> Any:
        """After a refusal of a *resumed* intent, find out whether the lost attempt did the work.

        Only operations without an idempotency key need this (Amazon replays keyed ones): a
        tracker Amazon already holds, a session the first attempt already completed.
        """
        if intent.operation == TRACK and error.reason_code == "InvalidParameterValue":
            detail = intent.request["deliveryDetails"][0]
            if "already registered" in error.message and detail["trackingNumber"] in error.message:
                tracker = DeliveryTracker.parse(intent.request)
                self._succeeded(intent, tracker)
                return tracker
        if intent.operation == COMPLETE and error.reason_code == "InvalidCheckoutSessionStatus":
            session = await self.client.get_checkout_session(intent.object_id)
            if session.state == "Completed":
                await self._follow_session(session)
                self._succeeded(intent, session)
                return session
        return None

    async def resume_pending(self) -> list[ResumeResult]:
        """Re-send every journaled operation without a known outcome, oldest first."""
        results: list[ResumeResult] = []
        for intent in self.journal.pending():
            try:
                await self._send(intent, resumed=True)
            except OutcomeUnknown as unknown:
                results.append(_result(intent, "unknown", str(unknown.cause)))
            except ApiError as error:
                results.append(_result(intent, "refused", f"{error.reason_code}: {error.message}"))
            except DeskError as error:
                results.append(_result(intent, "unknown", error.message))
            else:
                results.append(_result(intent, "succeeded", "done"))
        self._emit_pending()
        return results

    # ------------------------------------------------------------------ bulk work

    async def refresh_many(
        self,
        *,
        concurrency: int = 4,
        cancel: asyncio.Event | None = None,
        order_ids: Sequence[str] | None = None,
        task: str = "refresh",
    ) -> RefreshReport:
        """Re-verify every order not yet final, ``concurrency`` at a time, paced by the client.

        Each order sends only what can have changed (:meth:`_refresh_order`). Progress events
        as it goes; ``cancel`` stops it between orders (what is done stays).
        """
        ids = list(order_ids) if order_ids is not None else self.orders.ids_needing_refresh()
        report = RefreshReport(total=len(ids))
        self._emit(Progress(task, 0, report.total))
        changed: list[str] = []
        done = 0
        # the orders are taken in turn; their rows are read REFRESH_ROW_BLOCK at a time
        taken = 0
        read_to = 0
        rows: dict[str, OrderRow] = {}

        def take() -> tuple[str, OrderRow | None]:
            nonlocal taken, read_to
            if taken >= read_to:
                read_to = taken + REFRESH_ROW_BLOCK
                rows.clear()
                rows.update(self.orders.get_order_rows(ids[taken:read_to]))
            order_id = ids[taken]
            taken += 1
            # popped: an ID listed twice in a block has its row read again the second time
            return order_id, rows.pop(order_id, None)

        def flush() -> None:
            if changed:
                self._emit(OrdersChanged(tuple(changed)))
                changed.clear()

        async def worker() -> None:
            nonlocal done
            while taken < len(ids):
                if cancel is not None and cancel.is_set():
                    report.cancelled = True
                    return
                if report.unreachable:
                    return
                order_id, cached = take()
                try:
                    # bulk work batches its OrdersChanged events (see flush)
                    row = await self._refresh_order(order_id, cached)
                    if row.gone:
                        report.gone += 1
                    else:
                        report.verified += 1
                except TransportError as error:
                    # every other order would wait out the same retries: stop and say so
                    report.unreachable = error.message
                    report.failed.append((order_id, _describe_error(error)))
                except (ApiError, InvalidResponse, DeskError, RuleError) as error:
                    report.failed.append((order_id, _describe_error(error)))
                done += 1
                changed.append(order_id)
                if len(changed) >= 50:
                    flush()
                self._emit(Progress(task, done, report.total))

        workers = [asyncio.create_task(worker()) for _ in range(max(1, min(concurrency, 16)))]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            flush()
        self.last_refresh = datetime.now(UTC)
        return report

    async def import_ids(
        self,
        text: str,
        *,
        verify: bool = True,
        concurrency: int = 4,
        cancel: asyncio.Event | None = None,
    ) -> ImportReport:
        """Find checkout session, charge permission and charge IDs anywhere in ``text`` (a CSV
        export or pasted lines), de-duplicate, cache them, then verify them."""
        found = rules.find_ids(text)
        report = ImportReport(found=len(found))
        refs: list[OrderRef] = []
        for kind, value in found:
            if kind == IdKind.CHECKOUT_SESSION:
                refs.append(OrderRef(checkout_session_id=value))
            elif kind == IdKind.CHARGE_PERMISSION:
                refs.append(OrderRef(charge_permission_id=value))
            elif kind == IdKind.CHARGE:
                refs.append(OrderRef(charge_id=value))
            elif kind == IdKind.REFUND:
                refs.append(OrderRef(charge_permission_id=rules.charge_permission_id_of(value)))
        if not refs:
            return report
        added = self.orders.add_orders(refs)
        report.added, report.already_known = added.added, added.already_known
        self.journal.audit("import", None, {"found": report.found, "added": report.added})
        self._emit(OrdersChanged(()))
        if verify:
            order_ids = list(dict.fromkeys(added.order_ids))
            refreshed = await self.refresh_many(
                concurrency=concurrency, cancel=cancel, order_ids=order_ids, task="import"
            )
            report.verified = refreshed.verified + refreshed.gone
            report.failed = refreshed.failed
            report.cancelled = refreshed.cancelled
            report.unreachable = refreshed.unreachable
        return report


# --------------------------------------------------------------------------- helpers


def _client_config(settings: Any, data_dir: Path, passphrase: str | None,
                   private_key: Any) -> tuple[Any, str]:
    """The client's configuration and where its key came from, in words (see Desk.open)."""
    from . import secrets
    from .amazonpay import signing
    from .amazonpay.client import ClientConfig

    if private_key is not None:
        key_source = "the key being checked in Settings"
        public_key_id = settings.public_key_id
        if not public_key_id:
            raise DeskError("No public key ID: enter the one Seller Central shows beside the key.")
    elif settings.private_key_file:
        key_source = f"the key file {settings.private_key_file}"
        pem = Path(settings.private_key_file).expanduser().read_bytes()
        private_key = signing.load_private_key(pem, passphrase)
        public_key_id = settings.public_key_id
        if not public_key_id:
            raise DeskError(
                "No public key ID: give --public-key-id (Seller Central shows it beside the key)."
            )
    else:
        credentials = secrets.load_credentials(data_dir=data_dir, passphrase=passphrase)
        stored = secrets.describe(data_dir)
        key_source = str(stored.where) if stored else "the system keyring"
        private_key = credentials.private_key
        public_key_id = settings.public_key_id or credentials.public_key_id
    config = ClientConfig(
        public_key_id=public_key_id,
        private_key=private_key,
        region=settings.region,
        environment=settings.environment,
        algorithm=settings.algorithm,
        endpoint=settings.endpoint,
    )
    return config, key_source


def _keyring_label(status: Any) -> str:
    return str(status.label or status.backend_name)


def _result(intent: Intent, status: str, message: str) -> ResumeResult:
    return ResumeResult(intent.intent_id, intent.operation, intent.object_id, status, message,
                        describe_operation(intent.operation, intent.request))


def describe_operation(operation: str, request: dict[str, Any] | None) -> str:
    """A journaled operation in the operator's words: "Capture 14.00 USD", "Add tracking UPS
    1Z999…", "Complete checkout 20.00 USD"."""
    name = _OPERATION_WORDS.get(operation, operation)
    request = request or {}
    money = request.get("captureAmount") or request.get("chargeAmount")
    if isinstance(money, dict) and money.get("amount"):
        return f"{name} {money['amount']} {money.get('currencyCode', '')}".rstrip()
    details = request.get("deliveryDetails")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return f"{name} {details[0].get('carrierCode', '')} {details[0].get('trackingNumber', '')}"
    return name


def _describe_error(error: BaseException) -> str:
    if isinstance(error, ApiError):
        return f"{error.reason_code}: {error.message}"
    if isinstance(error, DeskError):
        return error.message
    return str(error)


_OPERATION_WORDS = {
    CAPTURE: "Capture",
    COMPLETE: "Complete checkout",
    TRACK: "Add tracking",
}


def _timeline_item(entry: TimelineEntry) -> TimelineItem:
    name = _OPERATION_WORDS.get(entry.name, entry.name)
    if entry.kind == "intent":
        text = f"{name} sent"
        amount = entry.detail.get("request", {}).get("captureAmount") if entry.detail else None
        if amount:
            text += f" ({amount.get('amount')} {amount.get('currencyCode')})"
    elif entry.kind == "outcome":
        text = f"{name}: {entry.status}"
        code = entry.detail.get("reasonCode") if entry.detail else None
        if code:
            text += f" ({code})"
    else:
        text = entry.name
    return TimelineItem(entry.at, text)


def explain_row(row: OrderRow) -> Explanation:
    """The plain-language meaning of an order's most telling state."""
    if row.gone:
        return Explanation(
            title="No longer on Amazon",
            meaning="Amazon Pay keeps checkout details for 30 days; this order is older, so "
            "Amazon no longer answers for it. What Merchant Desk saw last is kept here.",
            next_step="Nothing to do here; look the order up in Seller Central if needed.",
            final=True,
        )
    if row.session_state == "Completed" and not row.charge_state and row.charge_permission_state:
        # paymentIntent Confirm: the buyer approved a payment method to charge later, and the
        # permission, not the finished checkout, says what can be done now
        return meanings.explain(ObjectKind.CHARGE_PERMISSION, row.charge_permission_state)
    if row.session_state == "Canceled" or not row.charge_state:
        if row.session_state:
            return meanings.explain(ObjectKind.CHECKOUT_SESSION, row.session_state, row.session_reason)
        if row.charge_permission_state:
            return meanings.explain(ObjectKind.CHARGE_PERMISSION, row.charge_permission_state)
        return Explanation(
            title="Not verified yet",
            meaning="Merchant Desk knows this order's ID but has not asked Amazon about it yet.",
            next_step="Verify it to see whether the buyer paid.",
            final=False,
        )
    return meanings.explain(ObjectKind.CHARGE, row.charge_state, row.charge_reason)


def capture_blocked(row: OrderRow) -> str | None:
    """Why capture is not possible on this row now (None: it is)."""
    if not row.charge_id:
        return "There is no charge to capture: verify the order, or it was never authorized."
    if row.charge_state != "Authorized":
        state = row.charge_state or "unknown"
        return f"Only an Authorized charge can be captured; this one is {state}."
    return None


def tracking_blocked(row: OrderRow) -> str | None:
    """Why tracking cannot be added on this row now (None: it can)."""
    if not row.charge_permission_id:
        return "Tracking needs a charge permission: the checkout must be Completed first."
    return None
