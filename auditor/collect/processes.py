"""What both collectors share when they read a large tenant in several processes: what they are made of
(`ParallelCollector`), when to, the size of the chunk a process is handed next, the garbage collector's thresholds
while reading, the counters a worker reports, and the run of the readers."""

from __future__ import annotations

import gc
import multiprocessing.synchronize
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Self

from azure.core.credentials import TokenCredential
from azure.core.pipeline.transport import HttpTransport

from auditor.collect.interface import DEFAULT_MAX_WORKERS, NO_EXTRAS, Collector, Extras
from auditor.collect.recipe import CollectorRecipe
from auditor.collect.session import ArmSession
from auditor.collect.throttle import RateLimiter, ScanStats

# Set when the run is stopping (Ctrl-C): what is not yet started is not sent. Shared with worker processes.
Stopping = threading.Event | multiprocessing.synchronize.Event

SUBSCRIPTIONS_FOR_PROCESSES = 50  # smaller tenants are read by this process's threads alone


class ParallelCollector(Collector):
    """A collector that reads through one session (credential, transport, rate limiter, counters) on a pool of
    threads and, for tenants of SUBSCRIPTIONS_FOR_PROCESSES or more, in `processes` processes, each building its
    own from the recipe; with the run's stop flag. Each mode says how it shares the tenant out."""

    def __init__(
        self,
        credential: TokenCredential,
        transport: HttpTransport | None = None,
        base_url: str | None = None,
        *,
        max_workers: int = DEFAULT_MAX_WORKERS,
        limiter: RateLimiter | None = None,
        stats: ScanStats | None = None,
        processes: int = 1,
        recipe: CollectorRecipe | None = None,
        credential_scopes: Sequence[str] | None = None,
        extras: Extras = NO_EXTRAS,
    ) -> None:
        self._session = ArmSession(
            credential,
            transport,
            base_url,
            limiter=limiter,
            stats=stats,
            credential_scopes=credential_scopes,
            extras=extras,
            max_workers=max_workers,
        )
        self.stats = self._session.stats
        self._max_workers = max(1, max_workers)
        self._processes = max(1, processes) if recipe is not None else 1
        self._recipe = recipe
        # Set when the run is stopping (Ctrl-C): what is not yet started is not sent. Shared with worker processes.
        self.stopping: Stopping = threading.Event()

    @classmethod
    def from_recipe(cls, recipe: CollectorRecipe, processes: int = 1) -> Self:
        return cls(
            recipe.credential(),
            recipe.transport(),
            recipe.endpoints.arm,
            max_workers=recipe.max_workers,
            processes=processes,
            recipe=recipe,
            credential_scopes=[recipe.endpoints.scope],
            extras=recipe.extras,
        )

    @property
    def session(self) -> ArmSession:
        return self._session


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
            try:  # the readers started inside: a Ctrl-C while the next one is handed its thread stops the first too
                started = [readers.submit(read_here)] + [readers.submit(read_in_worker, pool) for pool in pools]
                for future in started:
                    future.result()
            except BaseException:
                stop()
                raise
    finally:
        for pool in pools:
            pool.shutdown(wait=False, cancel_futures=True)
