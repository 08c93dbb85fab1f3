"""The demo: a desk on the embedded Amazon Pay emulator, with its sample orders.

The composition the app's start-up uses for ``merchant-desk gui --demo`` (and the screenshots
and tests): the emulator answers in-process through ``httpx.ASGITransport``, so no port is
opened. The desk itself never imports the emulator; this module puts the two together.
"""

from __future__ import annotations

from pathlib import Path

from .desk import Desk

#: The public key ID the demo registers in the emulator (it looks like a sandbox key's).
DEMO_PUBLIC_KEY_ID = "SANDBOX-DEMOKEY000000000000000"


async def open_demo_desk(data_dir: Path, *, region: str = "na") -> Desk:
    """A desk on the embedded emulator, with its sample orders cached.

    The emulator keeps its data in ``data_dir/emulator.sqlite3`` so the demo orders are the
    same from one start to the next; a throwaway key is generated for each start (registered
    only in the emulator's memory, never written anywhere).
    """
    from .settings import ensure_private_dir

    ensure_private_dir(data_dir)
    desk = Desk.open_local(data_dir, environment_label="DEMO")
    try:
        await connect_demo(desk, region=region)
    except BaseException:
        await desk.aclose()
        raise
    return desk


async def connect_demo(desk: Desk, *, region: str = "na") -> None:
    """Connect a desk from :meth:`Desk.open_local` to the embedded emulator."""
    import httpx
    from cryptography.hazmat.primitives.asymmetric import rsa

    from .amazonpay.client import AmazonPayClient, ClientConfig
    from .desk import DeskError
    from .sandbox.app import create_app

    if desk.connected:
        raise DeskError("This desk is already connected.")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    app = create_app(
        keys={DEMO_PUBLIC_KEY_ID: key.public_key()},
        state_file=str(desk.store.data_dir / "emulator.sqlite3"),
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
    emulator = app.state.emulator

    async def close_emulator() -> None:
        emulator.world.close()

    # the emulator answers on this same loop: no signing thread beside it (the window's loop,
    # see AmazonPayClient._sign)
    client = AmazonPayClient(config, transport=httpx.ASGITransport(app=app), pacer=False,
                             sign_on_thread=False)
    desk.attach(client, key_source="a throwaway demo key (never stored)",
                environment_label="DEMO", on_close=close_emulator)
    desk.emulator = emulator
    # The emulator plays the shop's order export: cache whatever the desk does not know.
    missing = [sid for sid in sorted(emulator.world.sessions)
               if not desk.orders.find_order_ids(sid)]
    if missing:
        await desk.import_ids("\n".join(missing))
