"""A desk on the loopback emulator whose following runs on the emulator's business clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig, RetryPolicy
from merchant_desk.desk import Desk, FollowPolicy
from merchant_desk.store import open_database


async def _no_sleep(_: float) -> None:
    await asyncio.sleep(0)


FAST_RETRY = RetryPolicy(base_delay=0.001, max_delay=0.01, sleep=_no_sleep)


def business_follow(emulator, before_wait: Callable[[], None] | None = None) -> FollowPolicy:
    """Following whose waits move the emulator's clock instead of the test's: a refund settles
    after its 30 s at once, and the back-off is still the desk's own."""

    async def sleep(seconds: float) -> None:
        if before_wait is not None:
            before_wait()
        emulator.advance(seconds)
        await asyncio.sleep(0)

    return FollowPolicy(sleep=sleep)


def make_desk(emulator, data_dir: Path, *, follow: FollowPolicy | None = None,
              retry: RetryPolicy = FAST_RETRY, read_timeout: float = 5.0,
              environment: str = "sandbox") -> Desk:
    config = ClientConfig(
        public_key_id=emulator.key_id if environment == "sandbox" else emulator.plain_key_id,
        private_key=emulator.private_key,
        endpoint=emulator.base_url,
        environment=environment,
        read_timeout=read_timeout,
    )
    client = AmazonPayClient(config, pacer=False, retry=retry)
    desk = Desk(client, open_database(data_dir), environment_label=environment.upper())
    desk.follow_policy = follow or business_follow(emulator)
    return desk


def run(emulator, tmp_path: Path, scenario: Callable[[Desk], Awaitable[Any]], **kw: Any) -> Any:
    async def main() -> Any:
        desk = make_desk(emulator, tmp_path / "data", **kw)
        try:
            return await scenario(desk)
        finally:
            await desk.aclose()

    return asyncio.run(main())
