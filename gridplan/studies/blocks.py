"""Blocks of independent work solved on several threads and handed back in order.

The kernels of the N-1 scan and the time series release the GIL, so threads of one process
share the cores without copying the compiled case. Results come back in block order, and
each block is solved exactly as on one thread, so the results do not depend on the number
of threads.
"""

from __future__ import annotations

import itertools
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity; ``os.cpu_count()`` where unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def in_order(
    fn: Callable[[int, int], T], bounds: list[tuple[int, int]], threads: int, name: str
) -> Iterator[T]:
    """``fn(start, stop)`` for every block, yielded in block order; ``threads`` > 1 solves
    up to ``threads`` blocks at once with at most ``threads + 1`` finished or running ahead
    of the one yielded, so memory stays bounded. Leaving early (an error, Ctrl-C in the
    caller) cancels the blocks not started and waits for the running ones."""
    if threads <= 1 or len(bounds) <= 1:
        for a, b in bounds:
            yield fn(a, b)
        return
    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)
    try:
        pending: deque[Future[T]] = deque()
        todo = iter(bounds)
        for a, b in itertools.islice(todo, threads + 1):
            pending.append(pool.submit(fn, a, b))
        while pending:
            blk = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(fn, *nxt))
            yield blk
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
