"""Collect through Azure Resource Manager list calls: every list of every subscription, on a bounded pool of
threads (and, for large tenants, in several processes).

The SDK clients (`auditor.collect.session`) do the talking; `auditor.collect.lists` turns each item into an
`auditor.model` type; `auditor.collect.children` reads the lists under an item.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.pipeline.transport import HttpTransport

from auditor.collect.children import with_children
from auditor.collect.errors import logged, read_all
from auditor.collect.interface import DEFAULT_MAX_WORKERS, Collector
from auditor.collect.lists import KINDS, RESOURCE_LISTS, ListKind, inventory, malformed, understood
from auditor.collect.pages import json_items
from auditor.collect.recipe import CollectorRecipe
from auditor.collect.session import ArmSession, Clients
from auditor.collect.throttle import RateLimiter, ScanStats
from auditor.model import CollectionError, ListName, Scope, Subscription, SubscriptionInventory, TenantInventory

log = logging.getLogger(__name__)

SUBSCRIPTIONS_FOR_PROCESSES = 50  # smaller tenants are read by this process's threads alone
SMALLEST_CHUNK = 10


def chunk_size(remaining: int, processes: int) -> int:
    """The next chunk for a process: a share of what is left (guided self-scheduling), so chunks shrink towards
    the end and the processes finish together, even when a worker started seconds late. Never below
    SMALLEST_CHUNK: a chunk has a fixed cost (its thread pool's last lists, its results sent back)."""
    return min(remaining, max(SMALLEST_CHUNK, -(-remaining // (2 * processes))))


class ArmCollector(Collector):
    """Reads every subscription through the management SDK clients, over one shared transport.

    Each (subscription, list) is a task on a bounded thread pool; items are turned into our types as pages
    arrive, so no raw page outlives its iteration. Every attempt takes a token from the rate limiter first.
    """

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
    ) -> None:
        self._session = ArmSession(
            credential, transport, base_url, limiter=limiter, stats=stats, credential_scopes=credential_scopes
        )
        self.stats = self._session.stats
        self._max_workers = max(1, max_workers)
        self._processes = max(1, processes) if recipe is not None else 1
        self._recipe = recipe

    @classmethod
    def from_recipe(cls, recipe: CollectorRecipe, processes: int = 1) -> ArmCollector:
        return cls(
            recipe.credential(),
            recipe.transport(),
            recipe.endpoints.arm,
            max_workers=recipe.max_workers,
            processes=processes,
            recipe=recipe,
            credential_scopes=[recipe.endpoints.scope],
        )

    @property
    def session(self) -> ArmSession:
        return self._session

    def collect(self, scope: Scope | Sequence[str] = ()) -> TenantInventory:
        with fewer_garbage_collections():
            chosen, unreadable = self._session.visible_subscriptions(scope)
            if self._processes > 1 and len(chosen) >= SUBSCRIPTIONS_FOR_PROCESSES:
                inventories = self._collect_in_processes(chosen)
            else:
                inventories = self.collect_subscriptions(chosen)
            return self._session.tenant(inventories, unreadable)

    def collect_subscriptions(
        self, subscriptions: Sequence[Subscription], max_workers: int | None = None
    ) -> list[SubscriptionInventory]:
        found: dict[str, dict[ListName, list[Any]]] = {s.subscription_id: {} for s in subscriptions}
        errors: dict[str, list[CollectionError]] = {s.subscription_id: [] for s in subscriptions}
        remaining = {s.subscription_id: len(KINDS) for s in subscriptions}
        # A subscription's clients are built by its first task, on the pool: building them all before the
        # first request would leave every thread idle for milliseconds a subscription.
        clients: dict[str, Clients] = {}
        building = {s.subscription_id: threading.Lock() for s in subscriptions}
        lock = threading.Lock()

        def clients_of(subscription_id: str) -> Clients:
            with building[subscription_id]:
                if subscription_id not in clients:
                    clients[subscription_id] = self._session.clients(subscription_id)
                return clients[subscription_id]

        def task(subscription_id: str, kind: ListKind) -> None:
            client = clients_of(subscription_id)
            request = f"GET /subscriptions/{subscription_id}/{kind.path}"
            problems: list[str] = []
            items, error = read_all(
                kind.operation,
                request,
                lambda: understood(
                    json_items(client, kind.operation, subscription_id),
                    lambda item: kind.convert(item, subscription_id),
                    problems,
                ),
            )
            failures = [error] if error is not None else []
            if problems:
                failures.append(logged(malformed(kind.operation, request, problems)))
            lists = with_children(client, kind.operation, items, failures)
            with lock:
                found[subscription_id].update(lists)
                errors[subscription_id] += failures
                remaining[subscription_id] -= 1
                done = remaining[subscription_id] == 0
            if done:
                resources = sum(len(found[subscription_id][op]) for op in RESOURCE_LISTS)
                self.stats.add(subscriptions_done=1, resources=resources)

        threads = max_workers or self._max_workers
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="port25-collect") as pool:
            for future in [pool.submit(task, s.subscription_id, kind) for s in subscriptions for kind in KINDS]:
                future.result()
        return [inventory(s, found[s.subscription_id], errors[s.subscription_id]) for s in subscriptions]

    def _collect_in_processes(self, subscriptions: Sequence[Subscription]) -> list[SubscriptionInventory]:
        """Chunks of subscriptions shared out between this process and `processes - 1` worker processes, each
        reading its chunks with its own threads.

        This process is already signed in and would otherwise only wait, so it reads too, from the first
        moment, while the workers are still starting. A subscription is read whole by one process, so its
        rate-limit bucket stays in one place. A worker process that dies loses nothing: its chunk is read here.
        """
        assert self._recipe is not None
        workers = max(1, self._max_workers // self._processes)
        recipe = replace(self._recipe, max_workers=workers)
        read: dict[int, list[SubscriptionInventory]] = {}
        handed_out = 0  # subscriptions handed out so far; a chunk's start is its key, which keeps them in order
        lock = threading.Lock()

        def next_chunk() -> tuple[int, Sequence[Subscription]] | None:
            nonlocal handed_out
            with lock:
                start = handed_out
                handed_out += chunk_size(len(subscriptions) - start, self._processes)
                return (start, subscriptions[start:handed_out]) if start < len(subscriptions) else None

        def read_here() -> None:
            while (taken := next_chunk()) is not None:
                read[taken[0]] = self.collect_subscriptions(taken[1], workers)

        def read_in_worker(pool: ProcessPoolExecutor) -> None:
            """Hands chunks to a worker process; if it dies, reads its chunk, and any still waiting, here."""
            while (taken := next_chunk()) is not None:
                index, chunk = taken
                try:
                    read[index], counts = pool.submit(_collect_chunk, recipe, chunk).result()
                except BrokenProcessPool:
                    log.warning("a worker process stopped; its %d subscriptions are read in this one", len(chunk))
                    read[index] = self.collect_subscriptions(chunk, workers)
                    break
                self.stats.add(**counts)
            read_here()

        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=self._processes - 1, mp_context=context, initializer=_start_worker)
        try:
            with ThreadPoolExecutor(max_workers=self._processes, thread_name_prefix="port25-chunks") as readers:
                started = [readers.submit(read_here)]
                started += [readers.submit(read_in_worker, pool) for _ in range(self._processes - 1)]
                try:
                    for future in started:
                        future.result()
                except BaseException:  # Ctrl-C or a bug: the chunks being read finish, no others start
                    with lock:
                        handed_out = len(subscriptions)
                    raise
        finally:
            # Every chunk is in (or the run is stopping): the workers exit on their own while the audit goes on.
            pool.shutdown(wait=False, cancel_futures=True)
        return [inventory for index in sorted(read) for inventory in read[index]]

    def collect_subscription(self, subscription: Subscription) -> SubscriptionInventory:
        return self.collect_subscriptions([subscription])[0]


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


def _start_worker() -> None:
    """A worker process only reads: it keeps the reading thresholds for its life."""
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])


COUNTERS = ("subscriptions_done", "resources", "requests", "throttled", "waited_seconds")


def _collect_chunk(
    recipe: CollectorRecipe, subscriptions: Sequence[Subscription]
) -> tuple[list[SubscriptionInventory], dict[str, float]]:
    """In a worker process: read these subscriptions; return them and what they added to the counters."""
    collector = _built(recipe)
    before = {name: getattr(collector.stats, name) for name in COUNTERS}
    inventories = collector.collect_subscriptions(subscriptions)
    return inventories, {name: getattr(collector.stats, name) - before[name] for name in COUNTERS}


_collectors: dict[str, ArmCollector] = {}


def _built(recipe: CollectorRecipe) -> ArmCollector:
    """The collector of this worker process for the recipe, built once per process.

    Keyed by the recipe's text: each task brings a freshly unpickled recipe, equal but not identical.
    """
    key = repr(recipe)
    if key not in _collectors:
        _collectors[key] = ArmCollector.from_recipe(recipe)
    return _collectors[key]
