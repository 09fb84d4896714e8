"""Group commit: requests of one loop turn share a call; later ones share the next."""

from __future__ import annotations

import asyncio

import pytest

from conclave.kit.coalesce import Coalescer


async def test_requests_of_one_turn_share_a_call_and_later_ones_the_next() -> None:
    calls: list[list[int]] = []
    release = asyncio.Event()

    async def run(requests: list[int]) -> list[int]:
        calls.append(requests)
        if len(calls) == 1:
            await release.wait()  # requests made meanwhile queue for the next call
        return [request * 10 for request in requests]

    double = Coalescer(run)
    first = [asyncio.ensure_future(double(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0.01)
    later = [asyncio.ensure_future(double(n)) for n in (4, 5)]
    await asyncio.sleep(0.01)
    release.set()
    assert await asyncio.gather(*first, *later) == [10, 20, 30, 40, 50]
    assert calls == [[1, 2, 3], [4, 5]]


async def test_a_failed_call_fails_its_whole_batch_only() -> None:
    async def run(requests: list[int]) -> list[int]:
        if 0 in requests:
            raise ValueError("bad batch")
        return requests

    echo = Coalescer(run)
    failing = await asyncio.gather(echo(0), echo(1), return_exceptions=True)
    assert all(isinstance(result, ValueError) for result in failing)
    assert await echo(2) == 2


async def test_a_cancelled_caller_does_not_stop_the_others() -> None:
    gate = asyncio.Event()

    async def run(requests: list[int]) -> list[int]:
        await gate.wait()
        return requests

    echo = Coalescer(run)
    gone = asyncio.ensure_future(echo(1))
    kept = asyncio.ensure_future(echo(2))
    await asyncio.sleep(0.01)
    gone.cancel()
    gate.set()
    assert await kept == 2
    with pytest.raises(asyncio.CancelledError):
        await gone
