"""The demo: a desk on the embedded Amazon Pay emulator, with its sample orders.

The composition the app's start-up uses for ``merchant-desk gui --demo`` (and the screenshots
and tests): the emulator answers in-process through ``httpx.ASGITransport``, so no port is
opened. The desk itself never imports the emulator; this module puts the two together.

The demo follows the market of the language spoken when it starts (:func:`demo_market`): an
Italian, German, French or Spanish shop in Amazon Pay's EU region (euros, and some buyers paying
in pounds or Swiss francs), a Japanese one in the JP region (yen), an American one in dollars
(a British one in pounds for ``en_GB``). Each market keeps its own data folder
(:func:`folder_name`), so its orders never mix with another's.

"Place a test order" (:func:`open_shop`) adds the one socket of the demo, on demand: the demo's
shop (:mod:`.demo_shop`) and the emulator's buyer page on a loopback port, so the owner's own
browser can play the buyer.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .desk import Desk
from .i18n import _

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from .demo_shop import Arrival, DemoShop
    from .sandbox.app import Emulator
    from .sandbox.seed_markets import Market
    from .sandbox.testing import LoopbackServer

#: The public key ID the demo registers in the emulator (it looks like a sandbox key's).
DEMO_PUBLIC_KEY_ID = "SANDBOX-DEMOKEY000000000000000"
#: The demo shop's own key ID: a shop's server signs with its own key, not the back-office's.
SHOP_PUBLIC_KEY_ID = "SANDBOX-DEMOSHOP00000000000000"


def demo_market(locale: str | None = None) -> Market:
    """The market the demo shows for ``locale`` (default: the language spoken now)."""
    from . import i18n
    from .sandbox.seed_markets import market_for_locale

    return market_for_locale(locale or i18n.current_locale())


def folder_name(locale: str | None = None) -> str:
    """The demo's data folder for the language's market: ``demo`` (the US, as it always was),
    else ``demo-it``, ``demo-de``, ``demo-jp``..."""
    code = demo_market(locale).code
    return "demo" if code == "us" else f"demo-{code}"


async def open_demo_desk(data_dir: Path, *, market: Market | None = None) -> Desk:
    """A desk on the embedded emulator, with its sample orders cached.

    The emulator keeps its data in ``data_dir/emulator.sqlite3`` so the demo orders are the
    same from one start to the next; a throwaway key is generated for each start (registered
    only in the emulator's memory, never written anywhere).
    """
    from .settings import ensure_private_dir

    ensure_private_dir(data_dir)
    desk = Desk.open_local(data_dir, environment_label="DEMO")
    try:
        await connect_demo(desk, market=market)
    except BaseException:
        await desk.aclose()
        raise
    return desk


@dataclass(eq=False)
class _Demo:
    """What the demo keeps beside a desk: the emulator's app, the market, and the shop once open."""

    app: ASGIApp
    emulator: Emulator
    market: Market
    shop: DemoShop | None = None
    server: LoopbackServer | None = None
    opening: asyncio.Lock = field(default_factory=asyncio.Lock)


_demos: weakref.WeakKeyDictionary[Desk, _Demo] = weakref.WeakKeyDictionary()


async def connect_demo(desk: Desk, *, market: Market | None = None) -> None:
    """Connect a desk from :meth:`Desk.open_local` to the embedded emulator.

    ``market``: the shop and buyers of the sample orders (default: :func:`demo_market`).
    """
    import httpx
    from cryptography.hazmat.primitives.asymmetric import rsa

    from .amazonpay.client import AmazonPayClient, ClientConfig
    from .desk import DeskError
    from .sandbox.app import create_app
    from .sandbox.seed import seed_world

    if desk.connected:
        raise DeskError(_("This desk is already connected."))
    market = market or demo_market()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    app = create_app(
        keys={DEMO_PUBLIC_KEY_ID: key.public_key()},
        state_file=str(desk.store.data_dir / "emulator.sqlite3"),
        throttle=False,
        region=market.region,
    )
    emulator = app.state.emulator
    if emulator.world.is_empty():
        seed_world(emulator.world, market.region, market=market)
    config = ClientConfig(
        public_key_id=DEMO_PUBLIC_KEY_ID,
        private_key=key,
        region=market.region,
        environment="sandbox",
        endpoint="http://127.0.0.1",
    )
    demo = _Demo(app=app, emulator=emulator, market=market)

    async def close_emulator() -> None:
        _demos.pop(desk, None)  # a closed desk takes no more test orders
        await _close_shop(demo)
        emulator.world.close()

    # the emulator answers on this same loop: no signing thread beside it (the window's loop,
    # see AmazonPayClient._sign)
    client = AmazonPayClient(config, transport=httpx.ASGITransport(app=app), pacer=False,
                             sign_on_thread=False)
    desk.attach(client, key_source=_("a throwaway demo key (never stored)"),
                environment_label="DEMO", on_close=close_emulator)
    desk.emulator = emulator
    _demos[desk] = demo
    # The emulator plays the shop's order export: cache whatever the desk does not know.
    missing = [sid for sid in sorted(emulator.world.sessions)
               if not desk.orders.find_order_ids(sid)]
    if missing:
        await desk.import_ids("\n".join(missing))


# --------------------------------------------------------------------------- the shop


def is_demo(desk: Desk) -> bool:
    """Whether ``desk`` is connected to the demo's emulator (its shop can take test orders)."""
    return desk in _demos


async def open_shop(desk: Desk, on_arrival: Callable[[Arrival], None]) -> DemoShop:
    """The demo's shop for ``desk``, served with the buyer's page on a loopback port.

    Started on the first call (a key for the shop, registered in the emulator, and uvicorn on
    ``127.0.0.1`` in a thread); ``on_arrival`` is then called on this event loop for each buyer
    back at the shop. :class:`~.desk.DeskError` when ``desk`` is not a demo desk.
    """
    from .desk import DeskError

    demo = _demos.get(desk)
    if demo is None:
        raise DeskError(_("Test orders can only be placed in the demo."))
    loop = asyncio.get_running_loop()

    def hand_over(arrival: Arrival) -> None:  # on the server's thread
        loop.call_soon_threadsafe(on_arrival, arrival)

    async with demo.opening:
        if demo.shop is None:
            demo.shop = await _start_shop(demo, hand_over)
        else:
            demo.shop.on_arrival = hand_over
        return demo.shop


async def _start_shop(demo: _Demo, hand_over: Callable[[Arrival], None]) -> DemoShop:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from starlette.applications import Starlette

    from .demo_shop import DemoShop, Item
    from .money import Money
    from .sandbox.testing import LoopbackServer

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    demo.emulator.register_key(SHOP_PUBLIC_KEY_ID, key.public_key())
    currency = demo.market.home.currency
    shop = DemoShop(
        private_key=key,
        public_key_id=SHOP_PUBLIC_KEY_ID,
        region=demo.market.region,
        name=demo.market.shop,
        items=[Item(name, Money.of(price, currency)) for name, price in demo.market.items],
        on_arrival=hand_over,
    )
    pages = Starlette(routes=shop.routes())
    emulator_app = demo.app

    async def shop_and_amazon(scope: Scope, receive: Receive, send: Send) -> None:
        # the shop's pages under /shop/, everything else is Amazon (its API and buyer page)
        target = pages if scope["type"] == "http" and scope["path"].startswith("/shop/") else emulator_app
        await target(scope, receive, send)

    server = LoopbackServer(shop_and_amazon)
    base_url = await asyncio.to_thread(server.start)
    demo.server = server
    shop.endpoint = shop.origin = base_url
    return shop


async def _close_shop(demo: _Demo) -> None:
    server, demo.server, demo.shop = demo.server, None, None
    if server is not None:
        await asyncio.to_thread(server.stop)
