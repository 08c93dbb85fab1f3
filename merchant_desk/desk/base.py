"""The desk's ground: its store and client, its events, reading the cache, verifying orders.

``DeskBase`` composes the signed client (the wire) and the store (cache + journal). It knows
nothing of Qt, nor of the emulator: it emits plain frozen events to subscribers, which the
window re-emits as signals, and whoever starts the app gives it its client (:meth:`connect`
from settings and a key, :meth:`attach` for a client built elsewhere, as the demo does).
The money operations (:mod:`.operations`) and the bulk work (:mod:`.refresh`) build on it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Self

from .. import rules
from ..addresses import address_lines
from ..amazonpay.errors import ApiError
from ..amazonpay.models import Charge, ChargePermission, CheckoutSession
from ..events import CacheReset, DeskEvent, OrdersChanged, PendingCount
from ..i18n import _
from ..store import Intent, OrderRow, Store, open_database
from .connection import client_config, keyring_label
from .errors import DeskError
from .views import DaySummary, OrderDetail, OrderQuery, Tracker
from .wording import capture_blocked, explain_row, timeline, tracking_blocked

if TYPE_CHECKING:  # the wire (httpx, the signed client) is imported when the desk connects
    import httpx
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ..amazonpay.client import AmazonPayClient, ClientConfig, RetryPolicy
    from ..amazonpay.pacer import Pacer
    from ..settings import Settings

log = logging.getLogger(__name__)

#: How old a settled order's cached charge permission may get before refresh reads it again
#: (when its charge has not changed; a changed charge always re-reads it).
PERMISSION_MAX_AGE = timedelta(hours=12)


class DeskBase:
    """One Amazon Pay account and one data directory: the store, the client, the events."""

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
        #: Intents sent now, still waiting for Amazon's answer: journaled, but not "pending"
        #: for the operator (their outcome is not unknown yet, only not here yet).
        self._in_flight: set[int] = set()
        #: Whatever started the app keeps beside the desk here (the demo, its emulator, which
        #: tests reach); the desk itself never looks at it.
        self.emulator: object | None = None
        #: Where the private key came from, in words: "the key file ...", "the system keyring"...
        self.key_source = _("a key given by the caller")
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
                _("Merchant Desk is not connected to Amazon Pay yet. Wait a moment and try "
                  "again; if it stays so, open Settings and use Test connection.")
            )
        return self._client

    @property
    def connected(self) -> bool:
        """True once the desk has its signed client (reading the cache needs none)."""
        return self._client is not None

    # ------------------------------------------------------------------ construction

    @classmethod
    def open_local(cls, data_dir: Path, *, environment_label: str) -> Self:
        """A desk on the data directory alone: the list, details and journal, no client yet.

        The window paints the cached orders from it at once, then :meth:`connect` (keyring,
        key, HTTP client) runs while the operator already sees the list.
        """
        return cls(None, open_database(data_dir), environment_label=environment_label)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        data_dir: Path,
        passphrase: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        pacer: bool | Pacer = True,
        retry: RetryPolicy | None = None,
        private_key: rsa.RSAPrivateKey | None = None,
        sign_on_thread: bool = True,
    ) -> Self:
        """A desk on real credentials: the key from ``settings.private_key_file`` or secrets.

        ``private_key`` (an already loaded RSA key, with ``settings.public_key_id``) is for
        checking a key before it is stored: the window's Settings > Test connection.
        ``sign_on_thread``: see :class:`AmazonPayClient` (the window signs on its loop).
        """
        # the credentials first: a key that does not load leaves no store open
        config, key_source = client_config(settings, data_dir, passphrase, private_key)
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
        settings: Settings,
        *,
        passphrase: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        pacer: bool | Pacer = True,
        retry: RetryPolicy | None = None,
        private_key: rsa.RSAPrivateKey | None = None,
        sign_on_thread: bool = True,
    ) -> None:
        """Give a desk from :meth:`open_local` its signed client (as :meth:`open` does)."""
        if self._client is not None:
            raise DeskError(_("This desk is already connected."))
        config, key_source = client_config(settings, self.store.data_dir, passphrase,
                                           private_key)
        self._attach_client(config, key_source, transport=transport, pacer=pacer, retry=retry,
                            sign_on_thread=sign_on_thread)

    def _attach_client(self, config: ClientConfig, key_source: str, *,
                       transport: httpx.AsyncBaseTransport | None, pacer: bool | Pacer,
                       retry: RetryPolicy | None, sign_on_thread: bool) -> None:
        from ..amazonpay.client import AmazonPayClient

        if retry is None:
            client = AmazonPayClient(config, transport=transport, pacer=pacer,
                                     sign_on_thread=sign_on_thread)
        else:
            client = AmazonPayClient(config, transport=transport, pacer=pacer, retry=retry,
                                     sign_on_thread=sign_on_thread)
        self.attach(client, key_source=key_source)

    def attach(
        self,
        client: AmazonPayClient,
        *,
        key_source: str,
        environment_label: str | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Give a desk from :meth:`open_local` a client built elsewhere (the demo's, on the
        embedded emulator). ``on_close`` runs after the client is closed by :meth:`aclose`."""
        from .. import secrets

        if self._client is not None:
            raise DeskError(_("This desk is already connected."))
        self._client = client
        self.environment_label = (environment_label
                                  or client.config.effective_environment.upper())
        self._keyring_backend = keyring_label(secrets.keyring_status())
        self.key_source = key_source
        if on_close is not None:
            self._on_close = on_close

    async def aclose(self) -> None:
        """Close the client and the store (on the loop that used the client)."""
        try:
            if self._client is not None:
                await self._client.aclose()
            if self._on_close is not None:
                await self._on_close()
        finally:
            self.store.close()

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
        self._emit(PendingCount(self.pending_count()))

    # ------------------------------------------------------------------ read side

    def list_order_ids(self, query: OrderQuery) -> list[str]:
        return self.orders.list_order_ids(
            search=query.search or None,
            states=query.states or None,
            statuses=query.statuses or None,
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
            statuses=query.statuses or None,
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
            shipping_address=tuple(address_lines(address)) if address else (),
            payment_descriptor=stored.payment_descriptor,
            timeline=timeline(self.journal.timeline(object_ids)),
            stored=stored,
            capture_blocked=capture_blocked(row),
            tracking_blocked=tracking_blocked(row),
            trackers=tuple(
                Tracker(carrier, number, at, rules.tracking_url(carrier, number))
                for carrier, number, at in (
                    self.orders.delivery_trackers(row.charge_permission_id)
                    if row.charge_permission_id else ())),
        )

    def day_summary(self) -> DaySummary:
        return DaySummary(self.orders.counts_by_state(), self.orders.total_awaiting_capture())

    def pending_count(self) -> int:
        """Operations whose outcome is unknown: journaled, answered by nothing, not in flight."""
        if not self._in_flight:
            return self.journal.pending_count()
        return sum(1 for i in self.journal.pending() if i.intent_id not in self._in_flight)

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
            raise DeskError(_("Order {order} is not in the local cache.").format(order=order_id))
        return row
