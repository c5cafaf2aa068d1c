"""Collect through Azure Resource Manager list calls: every list of every subscription, on a bounded pool of
threads (and, for large tenants, in several processes).

The SDK clients (`auditor.collect.session`) do the talking; `auditor.collect.lists` turns each item into an
`auditor.model` type; `auditor.collect.children` reads the lists under an item.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.synchronize
import signal
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any

from azure.core.credentials import AccessTokenInfo

from auditor.collect.children import with_children
from auditor.collect.clients import Clients
from auditor.collect.errors import logged, read_all
from auditor.collect.lists import KINDS, RESOURCE_LISTS, ListKind, inventory, malformed, understood
from auditor.collect.pages import json_items
from auditor.collect.processes import (
    COUNTERS,
    SUBSCRIPTIONS_FOR_PROCESSES,
    ParallelCollector,
    Stopping,
    chunk_size,
    fewer_garbage_collections,
    read_together,
    reading_threshold,
)
from auditor.collect.recipe import CollectorRecipe
from auditor.collect.tokens import TokenKey
from auditor.model import CollectionError, ListName, Scope, Subscription, SubscriptionInventory, TenantInventory

log = logging.getLogger(__name__)


class ArmCollector(ParallelCollector):
    """Reads every subscription through the management SDK clients, over one shared transport.

    Each (subscription, list) is a task on a bounded thread pool; items are turned into our types as pages
    arrive, so no raw page outlives its iteration. Every attempt takes a token from the rate limiter first.
    """

    def collect(self, scope: Scope | Sequence[str] = ()) -> TenantInventory:
        self.stopping = threading.Event()
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
        with ThreadPoolExecutor(
            max_workers=max_workers or self._max_workers, thread_name_prefix="port25-collect"
        ) as pool:
            try:
                return self.begin(subscriptions, pool).finish()
            except BaseException:  # Ctrl-C or a bug: the lists being read finish, no others start
                self.stopping.set()
                raise

    def begin(self, subscriptions: Sequence[Subscription], pool: ThreadPoolExecutor) -> Reading:
        """Every list of these subscriptions, queued on the pool behind what is already on it."""
        reading = Reading(subscriptions)
        # A subscription's clients are built by its first task, on the pool: building them all before the
        # first request would leave every thread idle for milliseconds a subscription.
        clients: dict[str, Clients] = {}
        building = {s.subscription_id: threading.Lock() for s in subscriptions}

        def clients_of(subscription_id: str) -> Clients:
            with building[subscription_id]:
                if subscription_id not in clients:
                    clients[subscription_id] = self._session.clients(subscription_id)
                return clients[subscription_id]

        def task(subscription_id: str, kind: ListKind) -> None:
            if self.stopping.is_set():
                return
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
            if reading.add(subscription_id, lists, failures):
                resources = sum(len(reading.found[subscription_id][op]) for op in RESOURCE_LISTS)
                self.stats.add(subscriptions_done=1, resources=resources)

        reading.futures = [pool.submit(task, s.subscription_id, kind) for s in subscriptions for kind in KINDS]
        return reading

    def _collect_in_processes(self, subscriptions: Sequence[Subscription]) -> list[SubscriptionInventory]:
        """Chunks of subscriptions shared out between this process and `processes - 1` worker processes, each
        reading its chunks with its own threads.

        This process is already signed in and would otherwise only wait, so it reads too, from the first
        moment, while the workers are still starting. A subscription is read whole by one process, so its
        rate-limit bucket stays in one place. Each process is given its next chunk before its current one is
        done, so its threads go on from one to the next without waiting for the last lists of a chunk or for
        its results to be sent back. A worker process that dies loses nothing: its chunks are read here.
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

        def one_ahead(
            begin: Callable[[int, Sequence[Subscription]], None],
            finish: Callable[[int], None],
            begun: deque[tuple[int, Sequence[Subscription]]],
        ) -> None:
            """Begins chunks as they come, each before the one begun earlier is finished; finishes them in order."""
            while True:
                taken = next_chunk()
                if taken is not None:
                    begun.append(taken)
                    begin(*taken)
                if not begun:
                    return
                if taken is None or len(begun) > 1:
                    finish(begun[0][0])
                    begun.popleft()

        def read_here(left: Sequence[tuple[int, Sequence[Subscription]]] = ()) -> None:
            """Reads `left` (a dead worker's chunks), then chunks as they come."""
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="port25-collect") as pool:
                readings = {index: self.begin(chunk, pool) for index, chunk in left}

                def begin(index: int, chunk: Sequence[Subscription]) -> None:
                    readings[index] = self.begin(chunk, pool)

                def finish(index: int) -> None:
                    read[index] = readings.pop(index).finish()

                one_ahead(begin, finish, deque(left))

        def read_in_worker(pool: ProcessPoolExecutor) -> None:
            """Hands chunks to a worker process; if it dies, reads the chunks it held here."""

            def begin(index: int, chunk: Sequence[Subscription]) -> None:
                pool.submit(_begin_chunk, recipe, index, chunk, self._session.credential.tokens()).result()

            def finish(index: int) -> None:
                read[index], counts = pool.submit(_finish_chunk, recipe, index).result()
                self.stats.add(**counts)

            held: deque[tuple[int, Sequence[Subscription]]] = deque()
            try:
                one_ahead(begin, finish, held)
            except BrokenProcessPool:
                if self.stopping.is_set():
                    return
                log.warning(
                    "a worker process stopped; its %d subscriptions are read in this one",
                    sum(len(chunk) for _, chunk in held),
                )
                read_here(held)

        context = multiprocessing.get_context("spawn")
        self.stopping = context.Event()  # one flag for this process and the workers
        # one pool a worker process: a worker is told to begin a chunk and later to finish it, both in that process
        pools = [
            ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_start_worker, initargs=(self.stopping,))
            for _ in range(self._processes - 1)
        ]

        def stop() -> None:  # Ctrl-C or a bug: the lists being read finish, no others start
            nonlocal handed_out
            with lock:
                handed_out = len(subscriptions)
            self.stopping.set()

        read_together(read_here, read_in_worker, pools, stop)
        return [inventory for index in sorted(read) for inventory in read[index]]

    def collect_subscription(self, subscription: Subscription) -> SubscriptionInventory:
        return self.collect_subscriptions([subscription])[0]


def _start_worker(stopping: Stopping) -> None:
    """A worker process only reads: it keeps the reading thresholds for its life. Ctrl-C is this run's first
    process's to handle: it tells the workers through `stopping`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reading_threshold()
    _stopping.append(stopping)


_stopping: list[Stopping] = []  # in a worker process: the run's stop flag, given when the process starts


class Reading:
    """The lists of some subscriptions being read on a pool: what each has found so far, and how many of its
    lists are still out."""

    def __init__(self, subscriptions: Sequence[Subscription]) -> None:
        self.subscriptions = subscriptions
        self.found: dict[str, dict[ListName, list[Any]]] = {s.subscription_id: {} for s in subscriptions}
        self.errors: dict[str, list[CollectionError]] = {s.subscription_id: [] for s in subscriptions}
        self.futures: list[Future[None]] = []
        self._remaining = {s.subscription_id: len(KINDS) for s in subscriptions}
        self._lock = threading.Lock()

    def add(self, subscription_id: str, lists: dict[ListName, list[Any]], failures: list[CollectionError]) -> bool:
        """One list's items and failures; True when it was the subscription's last list."""
        with self._lock:
            self.found[subscription_id].update(lists)
            self.errors[subscription_id] += failures
            self._remaining[subscription_id] -= 1
            return self._remaining[subscription_id] == 0

    def finish(self) -> list[SubscriptionInventory]:
        """Waits for every list, then each subscription's inventory, in order."""
        for future in self.futures:
            future.result()
        return [inventory(s, self.found[s.subscription_id], self.errors[s.subscription_id]) for s in self.subscriptions]


def _begin_chunk(
    recipe: CollectorRecipe,
    index: int,
    subscriptions: Sequence[Subscription],
    tokens: dict[TokenKey, AccessTokenInfo],
) -> None:
    """In a worker process: queue these subscriptions' lists on the worker's threads, and return. The tokens are
    this run's first process's: the worker asks its credential only for what they do not cover."""
    worker = _worker(recipe)
    worker.collector.session.credential.seed(tokens)
    worker.readings[index] = worker.collector.begin(subscriptions, worker.pool)


def _finish_chunk(recipe: CollectorRecipe, index: int) -> tuple[list[SubscriptionInventory], dict[str, float]]:
    """In a worker process: the chunk's inventories once read, and what the counters gained since last asked
    (the chunk queued behind it counts too; the sum over a scan is the worker's whole)."""
    worker = _worker(recipe)
    inventories = worker.readings.pop(index).finish()
    now = {name: getattr(worker.collector.stats, name) for name in COUNTERS}
    gained = {name: now[name] - worker.reported.get(name, 0) for name in COUNTERS}
    worker.reported.update(now)
    return inventories, gained


@dataclass(frozen=True)
class _Worker:
    """What a worker process keeps between the tasks it is sent: its collector and threads, the chunks they are
    reading (by their start), and what its counters had when it last reported them."""

    collector: ArmCollector
    pool: ThreadPoolExecutor
    readings: dict[int, Reading] = field(default_factory=dict)
    reported: dict[str, float] = field(default_factory=dict)


_workers: dict[str, _Worker] = {}


def _worker(recipe: CollectorRecipe) -> _Worker:
    """This worker process's collector for the recipe, and its threads, built once per process.

    Keyed by the recipe's text: each task brings a freshly unpickled recipe, equal but not identical.
    """
    key = repr(recipe)
    if key not in _workers:
        pool = ThreadPoolExecutor(max_workers=recipe.max_workers, thread_name_prefix="port25-collect")
        collector = ArmCollector.from_recipe(recipe)
        if _stopping:
            collector.stopping = _stopping[0]
        _workers[key] = _Worker(collector, pool)
    return _workers[key]
