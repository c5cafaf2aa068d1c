"""What both collectors share when they read a large tenant in several processes: when to, the size of the chunk
a process is handed next, the garbage collector's thresholds while reading, and the counters a worker reports."""

from __future__ import annotations

import gc
import multiprocessing.synchronize
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Set when the run is stopping (Ctrl-C): what is not yet started is not sent. Shared with worker processes.
Stopping = threading.Event | multiprocessing.synchronize.Event

SUBSCRIPTIONS_FOR_PROCESSES = 50  # smaller tenants are read by this process's threads alone
SMALLEST_CHUNK = 10


def chunk_size(remaining: int, processes: int) -> int:
    """The next chunk for a process: a share of what is left (guided self-scheduling), so chunks shrink towards
    the end and the processes finish together, even when a worker started seconds late. Never below
    SMALLEST_CHUNK: a chunk has a fixed cost (two calls to a worker, its results pickled and sent back)."""
    return min(remaining, max(SMALLEST_CHUNK, -(-remaining // (2 * processes))))


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
