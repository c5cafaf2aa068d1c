"""What both collectors share when they read a large tenant in several processes: when to, the size of the chunk
a process is handed next, the garbage collector's thresholds while reading, and the counters a worker reports."""

from __future__ import annotations

import gc
import multiprocessing.synchronize
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager

# Set when the run is stopping (Ctrl-C): what is not yet started is not sent. Shared with worker processes.
Stopping = threading.Event | multiprocessing.synchronize.Event

SUBSCRIPTIONS_FOR_PROCESSES = 50  # smaller tenants are read by this process's threads alone
SMALLEST_CHUNK = 10


def chunk_size(remaining: int, processes: int, smallest: int = SMALLEST_CHUNK) -> int:
    """The next chunk for a process: a share of what is left (guided self-scheduling), so chunks shrink towards
    the end and the processes finish together, even when a worker started seconds late. Never below `smallest`
    (subscriptions; Graph mode hands out batches of them, one at least): a chunk has a fixed cost (calls to a
    worker, its results pickled and sent back)."""
    return min(remaining, max(smallest, -(-remaining // (2 * processes))))


# Deserialising a page makes tens of thousands of short-lived objects with few reference cycles; collecting
# the youngest generation every 700 allocations (Python's default) cost about a tenth of a scan's CPU.
YOUNG_GENERATION_THRESHOLD = 50_000


@contextmanager
def fewer_garbage_collections() -> Iterator[None]:
    """Collect the youngest generation less often while reading; Python's thresholds come back afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def reading_threshold() -> None:
    """A worker process's thresholds for its life: it only reads."""
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])


COUNTERS = ("subscriptions_done", "resources", "requests", "throttled", "waited_seconds")


def read_together(
    read_here: Callable[[], None],
    read_in_worker: Callable[[ProcessPoolExecutor], None],
    pools: Sequence[ProcessPoolExecutor],
    stop: Callable[[], None],
) -> None:
    """This process's reader and one reader a worker process, at once, until every chunk is read. On Ctrl-C or a
    bug, `stop` (no chunk is handed out, the workers are told) and the error goes on. The workers' pools are let
    go either way: the workers exit on their own while the audit goes on."""
    try:
        with ThreadPoolExecutor(max_workers=len(pools) + 1, thread_name_prefix="port25-chunks") as readers:
            started = [readers.submit(read_here)] + [readers.submit(read_in_worker, pool) for pool in pools]
            try:
                for future in started:
                    future.result()
            except BaseException:
                stop()
                raise
    finally:
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
