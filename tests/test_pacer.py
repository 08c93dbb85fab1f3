"""The client-side pacer: documented rates, bursts, waiting instead of failing, on a fake clock."""

from __future__ import annotations

import asyncio
import itertools
import re

from merchant_desk.amazonpay.pacer import PRODUCTION_RATES, SANDBOX_RATES, Pacer, Rate
from tests.clienthelpers import CHARGE, CHARGE_ID, make_client
from tests.conftest import DATA
from tests.loopback import Reply, scripted

# The documentation's operation names -> the SDKs' operation names used by the pacer.
NAMES = {
    "Get Checkout Session": "getCheckoutSession",
    "Complete Checkout Session": "completeCheckoutSession",
    "Get Charge Permission": "getChargePermission",
    "Get Charge": "getCharge",
    "Create Charge": "createCharge",
    "Capture Charge": "captureCharge",
    "Cancel Charge": "cancelCharge",
    "Create Refund": "createRefund",
    "Get Refund": "getRefund",
    "Close Charge Permission": "closeChargePermission",
    "Create Delivery Tracker": "deliveryTrackers",
}


class FakeClock:
    """Monotonic time that only moves when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def test_rate_tables_are_the_documented_ones():
    # Joined into one line: the table is prose that wraps in the middle of names.
    text = " ".join((DATA / "throttling_limits.txt").read_text(encoding="utf-8").split())
    found = re.findall(r"([A-Z][A-Za-z ]+?) (\d+)/(\d+) and (\d+)/(\d+)", text)
    assert len(found) == len(NAMES)
    assert PRODUCTION_RATES.keys() == SANDBOX_RATES.keys()
    # every documented rate is paced; the others (Update Charge Permission, reports) are paced
    # at rates of our choice, as the emulator throttles them
    assert set(NAMES.values()) <= set(PRODUCTION_RATES)
    for name, burst, restore, sandbox_burst, sandbox_restore in found:
        operation = NAMES[name.strip()]
        assert PRODUCTION_RATES[operation] == Rate(int(burst), int(restore)), name
        assert SANDBOX_RATES[operation] == Rate(int(sandbox_burst), int(sandbox_restore)), name


def test_a_burst_passes_at_once_then_calls_wait_at_the_restore_rate():
    clock = FakeClock()
    pacer = Pacer.for_environment("sandbox", clock=clock, sleep=clock.sleep, headroom=0.0)

    async def go():
        return [await pacer.acquire("getCheckoutSession") for _ in range(13)]

    waits = asyncio.run(go())
    assert waits[:10] == [0.0] * 10  # sandbox burst 10
    assert waits[10:] == [1.0, 1.0, 1.0]  # then 1 per second
    assert clock.now == 3.0


def test_tokens_come_back_with_time_up_to_the_burst():
    clock = FakeClock()
    pacer = Pacer({"captureCharge": Rate(2, 1)}, clock=clock, sleep=clock.sleep, headroom=0.0)

    async def go():
        await pacer.acquire("captureCharge")
        await pacer.acquire("captureCharge")
        assert pacer.available("captureCharge") == 0.0
        clock.now += 0.5
        assert pacer.available("captureCharge") == 0.5
        clock.now += 100
        assert pacer.available("captureCharge") == 2.0
        assert await pacer.acquire("captureCharge") == 0.0

    asyncio.run(go())


def test_operations_have_separate_buckets_and_unknown_ones_are_not_paced():
    clock = FakeClock()
    pacer = Pacer.for_environment("sandbox", clock=clock, sleep=clock.sleep)

    async def go():
        await pacer.acquire("deliveryTrackers")  # sandbox burst 1
        assert await pacer.acquire("getCharge") == 0.0
        assert await pacer.acquire("somethingNew") == 0.0
        assert await pacer.acquire("deliveryTrackers") == 1.0

    asyncio.run(go())


def test_many_coroutines_share_a_bucket_fairly_and_all_get_through():
    clock = FakeClock()
    pacer = Pacer({"createCharge": Rate(10, 4)}, clock=clock, sleep=clock.sleep, headroom=0.0)
    done: list[tuple[int, float]] = []

    async def one(i: int) -> None:
        await pacer.acquire("createCharge")
        done.append((i, clock.now))

    async def go():
        await asyncio.gather(*(one(i) for i in range(30)))

    asyncio.run(go())
    assert [i for i, _ in done] == list(range(30))  # first come, first served
    assert clock.now == 5.0  # 10 at once, then 20 more at 4 per second
    times = [t for _, t in done]
    for start in range(len(times)):  # never more than burst + restore * window in any window
        for end in range(start, len(times)):
            assert end - start + 1 <= 10 + 4 * (times[end] - times[start]) + 1e-9


def test_headroom_delays_the_requests_after_the_burst_once_not_per_request():
    clock = FakeClock()
    pacer = Pacer({"getCharge": Rate(20, 4)}, clock=clock, sleep=clock.sleep, headroom=0.1)
    sent: list[float] = []

    async def go():
        for _ in range(60):
            await pacer.acquire("getCharge")
            sent.append(clock.now)

    asyncio.run(go())
    # 19 at once (0.4 token held back), then the documented 4 per second, 0.1 s later
    assert sent[:19] == [0.0] * 19
    assert abs(sent[-1] - ((60 - 20) / 4 + 0.1)) < 1e-9
    gaps = [b - a for a, b in itertools.pairwise(sent[20:])]
    assert all(abs(gap - 0.25) < 1e-9 for gap in gaps)  # the full restore rate
    # what leaves never beats the bucket even if it arrives 0.1 s earlier than the first did
    for start in range(len(sent)):
        for end in range(start, len(sent)):
            assert end - start + 1 <= 20 + 4 * max(0.0, sent[end] - sent[start] - 0.1) + 1e-9


def test_a_burst_of_one_cannot_hold_a_reserve_and_waits_whole_tokens():
    clock = FakeClock()
    pacer = Pacer({"deliveryTrackers": Rate(1, 1)}, clock=clock, sleep=clock.sleep, headroom=0.1)

    async def go():
        return [await pacer.acquire("deliveryTrackers") for _ in range(3)]

    assert asyncio.run(go()) == [0.0, 1.0, 1.0]


def test_reports_and_disbursements_are_paced_at_the_emulators_rates():
    # Amazon publishes none for them: the client keeps to the ones the emulator enforces.
    from merchant_desk.sandbox.reports import REPORT_OPERATIONS
    from merchant_desk.sandbox.throttle import RATES

    for operation in REPORT_OPERATIONS:
        (burst, restore), (sandbox_burst, sandbox_restore) = RATES[operation]
        assert PRODUCTION_RATES[operation] == Rate(burst, restore), operation
        assert SANDBOX_RATES[operation] == Rate(sandbox_burst, sandbox_restore), operation


def test_production_rates_are_higher_than_sandbox():
    for operation, rate in SANDBOX_RATES.items():
        assert PRODUCTION_RATES[operation].burst >= rate.burst
        assert PRODUCTION_RATES[operation].restore >= rate.restore


def test_the_client_paces_itself_and_a_429_drains_the_bucket(loopback, rsa_key):
    server = loopback(
        scripted(
            Reply(200, CHARGE),
            Reply(429, {"reasonCode": "TooManyRequests", "message": "slow"}),
            Reply(200, CHARGE),
        )
    )
    clock = FakeClock()
    pacer = Pacer({"getCharge": Rate(5, 1)}, clock=clock, sleep=clock.sleep, headroom=0.0)

    async def go():
        async with make_client(server.url, rsa_key, pacer=pacer, jitter=0.0) as client:
            await client.get_charge(CHARGE_ID)  # token 1 of 5
            await client.get_charge(CHARGE_ID)  # 429 drains the bucket, retry waits a token
            return client

    client = asyncio.run(go())
    assert client.pacer is pacer
    assert len(server.received) == 3
    assert clock.sleeps == [1.0]
