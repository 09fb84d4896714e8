"""Group commit: requests made in the same turn of the event loop share one call.

Why: some work costs mostly per call, not per item — a transaction costs the same few
statements whether it settles one webhook's round or ten. When many tasks ask for such work at
once (the job runner starts the jobs it claimed together), :class:`Coalescer` runs it once for
all of them, and whatever arrives while that call runs is taken together by the next one. No
request waits for a timer: the first one of a turn waits only for the others of that turn.
asyncio offers no such primitive, and the libraries that batch (aiodataloader and the like)
are built around caching keyed loads, which this is not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")


class Coalescer(Generic[Request, Result]):
    """``await coalescer(request)``: ``run`` gets every request of the batch, in arrival order,
    and returns one result per request, in the same order. If ``run`` raises, every request of
    that batch raises the same exception."""

    def __init__(self, run: Callable[[list[Request]], Awaitable[Sequence[Result]]]) -> None:
        self._run = run
        self._waiting: list[tuple[Request, asyncio.Future[Result]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def __call__(self, request: Request) -> Result:
        loop = asyncio.get_running_loop()
        drainer = self._drainer
        if drainer is not None and drainer.get_loop() is not loop:
            # Left behind by a loop that has ended (tests run one loop after another).
            drainer, self._waiting = None, [(r, f) for r, f in self._waiting if f.get_loop() is loop]
        future: asyncio.Future[Result] = loop.create_future()
        self._waiting.append((request, future))
        if drainer is None or drainer.done():
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)  # let the other requests of this turn join the first batch
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await self._run([request for request, _ in batch])
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():  # its caller may have been cancelled meanwhile
                    future.set_result(result)
