"""Collect through Azure Resource Graph: two paged KQL queries per batch of subscriptions, instead of a list call
per subscription for each of the lists `lists.KINDS` names.

Resource Graph answers only for what the identity can read and says nothing of the rest, so each batch also asks
which subscriptions Graph knows (the ResourceContainers table): a subscription the ARM subscription list shows but
Graph does not is marked, never dropped. The subscription list itself (offer, state) still comes from ARM, and so
does `config/web` for the older apps that say how they route only there.

Turning a large tenant's rows into our types is CPU-bound, so large tenants are read by several processes, as ARM
mode's are (`auditor.collect.processes`): each reads chunks of batches with its own threads (the rows, then the
lists under them). Graph's quota is the user's, not a subscription's, so every process takes its Graph tokens from
one bucket in shared memory.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

from azure.core.credentials import AccessTokenInfo
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from auditor.collect.children import with_children
from auditor.collect.errors import logged, read_all
from auditor.collect.lists import KINDS, RESOURCE_LISTS, ListKind, MalformedItem, inventory, malformed
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
from auditor.collect.throttle import Bucket, SharedTokenBucket
from auditor.collect.tokens import TokenKey
from auditor.model import (
    RESOURCE_GRAPH,
    CollectionError,
    ErrorCode,
    ListName,
    Scope,
    Subscription,
    SubscriptionInventory,
    TenantInventory,
)

log = logging.getLogger(__name__)

# Subscriptions per query. The REST API caps the list (Azure CLI and PowerShell forward at most 1,000); smaller
# batches let several queries page in parallel within Graph's per-user quota, and a failure costs less.
BATCH_SIZE = 250
PAGE_SIZE = 1000  # rows per page, Resource Graph's maximum
OPERATION = RESOURCE_GRAPH
REQUEST = "POST /providers/Microsoft.ResourceGraph/resources"

KIND_BY_GRAPH_TYPE: dict[str, ListKind] = {kind.resource_type.lower(): kind for kind in KINDS}
# Lists whose items have lists of their own, which Graph rows do not carry: read through ARM.
CHILD_LISTS = (ListName.SITES, ListName.FIREWALL_POLICIES, ListName.VIRTUAL_HUBS)

# `id` is projected so that Graph can page the result in a stable order.
RESOURCES_QUERY = (
    "Resources\n"
    f"| where type in~ ({', '.join(repr(t) for t in KIND_BY_GRAPH_TYPE)})\n"
    "| project id, name, type, kind, location, subscriptionId, tags, properties"
)
SUBSCRIPTIONS_QUERY = (
    "ResourceContainers\n| where type =~ 'microsoft.resources/subscriptions'\n| project id, subscriptionId"
)


class GraphPagingError(ValueError):
    """Resource Graph's answer cannot be paged through (a truncated result, a repeated $skipToken, no rows)."""


def query_request(query: str, subscription_ids: Sequence[str], skip_token: str | None = None) -> QueryRequest:
    return QueryRequest(
        query=query,
        subscriptions=list(subscription_ids),
        options=QueryRequestOptions(top=PAGE_SIZE, skip_token=skip_token, result_format="objectArray"),
    )


class GraphCollector(ParallelCollector):
    """Reads batches of subscriptions with Resource Graph queries, pages converted as they arrive."""

    def __init__(self, *args: Any, batch_size: int = BATCH_SIZE, **options: Any) -> None:
        """`ParallelCollector`'s arguments, and the subscriptions a query asks for."""
        super().__init__(*args, **options)
        self._batch_size = max(1, batch_size)
        self._graph = ResourceGraphClient(self._session.credential, **self._session.client_options())

    def collect(self, scope: Scope | Sequence[str] = ()) -> TenantInventory:
        with fewer_garbage_collections():
            chosen, unreadable = self._session.visible_subscriptions(scope)
            ordered = sorted(chosen, key=lambda s: s.subscription_id)
            batches = [ordered[i : i + self._batch_size] for i in range(0, len(ordered), self._batch_size)]
            if self._processes > 1 and len(chosen) >= SUBSCRIPTIONS_FOR_PROCESSES and len(batches) > 1:
                read = self._collect_in_processes(batches)
            else:
                read = self.collect_batches(batches)
            by_id = {i.subscription.subscription_id: i for i in read}
            return self._session.tenant([by_id[s.subscription_id] for s in chosen], unreadable)

    def collect_batches(
        self, batches: Sequence[Sequence[Subscription]], max_workers: int | None = None
    ) -> list[SubscriptionInventory]:
        """The inventories of these batches' subscriptions: each batch's rows, then the lists under them."""
        chosen = [s for batch in batches for s in batch]
        found: dict[str, dict[ListName, list[Any]]] = {s.subscription_id: defaultdict(list) for s in chosen}
        errors: dict[str, list[CollectionError]] = {s.subscription_id: [] for s in chosen}
        lock = threading.Lock()

        def read(batch: Sequence[Subscription]) -> None:
            if self.stopping.is_set():
                return
            batch_found, batch_errors = self._read_batch(batch)
            with lock:
                for subscription in batch:
                    found[subscription.subscription_id].update(batch_found[subscription.subscription_id])
                    errors[subscription.subscription_id] += batch_errors[subscription.subscription_id]
            resources = sum(len(batch_found[s.subscription_id][op]) for s in batch for op in RESOURCE_LISTS)
            self.stats.add(subscriptions_done=len(batch), resources=resources)

        threads = max_workers or self._max_workers
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="port25-graph") as pool:
            try:
                # at most one query chain a thread; the children are read on every thread after
                for future in [pool.submit(read, batch) for batch in batches]:
                    future.result()
            except BaseException:  # Ctrl-C or a bug: the batches being read finish, no others start
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            self._add_children(pool, found, errors)
        return [inventory(s, found[s.subscription_id], errors[s.subscription_id]) for s in chosen]

    def _collect_in_processes(self, batches: Sequence[Sequence[Subscription]]) -> list[SubscriptionInventory]:
        """Chunks of batches shared out between this process and `processes - 1` worker processes, each reading
        its chunks with its own threads, as ARM mode does (`ArmCollector._collect_in_processes`): this process
        reads too, chunks shrink towards the end, a worker that dies has its chunk read here. Every process
        takes Graph's tokens from one shared bucket: the quota is the user's, whichever process asks."""
        assert self._recipe is not None
        processes = min(self._processes, len(batches))
        workers = max(1, self._max_workers // processes)
        recipe = replace(self._recipe, max_workers=workers)
        context = multiprocessing.get_context("spawn")
        self.stopping = context.Event()  # one flag for this process and the workers
        quota = SharedTokenBucket(context, *self._session.limiter.graph_quota)
        self._session.limiter.share_graph_quota(quota)
        read: dict[int, list[SubscriptionInventory]] = {}
        handed_out = 0  # batches handed out so far; a chunk's first batch is its key, which keeps them in order
        lock = threading.Lock()

        def next_chunk() -> tuple[int, Sequence[Sequence[Subscription]]] | None:
            nonlocal handed_out
            with lock:
                start = handed_out
                handed_out += chunk_size(len(batches) - start, processes, smallest=1)
                return (start, batches[start:handed_out]) if start < len(batches) else None

        def read_here(left: tuple[int, Sequence[Sequence[Subscription]]] | None = None) -> None:
            taken = left or next_chunk()
            while taken is not None:
                read[taken[0]] = self.collect_batches(taken[1], workers)
                taken = next_chunk()

        def read_in_worker(pool: ProcessPoolExecutor) -> None:
            taken = next_chunk()
            try:
                while taken is not None:
                    tokens = self._session.credential.tokens()
                    read[taken[0]], counts = pool.submit(_read_chunk, recipe, taken[1], tokens).result()
                    self.stats.add(**counts)
                    taken = next_chunk()
            except BrokenProcessPool:
                assert taken is not None
                log.warning(
                    "a worker process stopped; its %d subscriptions are read in this one", sum(map(len, taken[1]))
                )
                read_here(taken)

        pools = [
            ProcessPoolExecutor(
                max_workers=1, mp_context=context, initializer=_start_worker, initargs=(quota, self.stopping)
            )
            for _ in range(processes - 1)
        ]

        def stop() -> None:  # Ctrl-C or a bug: every process stops paging, no chunk starts
            nonlocal handed_out
            with lock:
                handed_out = len(batches)
            self.stopping.set()

        read_together(read_here, read_in_worker, pools, stop)
        return [inventory for index in sorted(read) for inventory in read[index]]

    def _read_batch(
        self, batch: Sequence[Subscription]
    ) -> tuple[dict[str, dict[ListName, list[Any]]], dict[str, list[CollectionError]]]:
        ids = [s.subscription_id for s in batch]
        found: dict[str, dict[ListName, list[Any]]] = {i: defaultdict(list) for i in ids}
        errors: dict[str, list[CollectionError]] = {i: [] for i in ids}
        known, error = read_all(
            OPERATION,
            f"{REQUEST} (ResourceContainers)",
            lambda: (str(row.get("subscriptionId") or "").lower() for row in self._rows(SUBSCRIPTIONS_QUERY, ids)),
        )
        if error is None:
            for subscription_id in set(ids) - set(known):
                errors[subscription_id].append(_not_in_graph(subscription_id))
        problems: dict[tuple[str, str], list[str]] = defaultdict(list)
        converted, resources_error = read_all(
            OPERATION, f"{REQUEST} (Resources)", lambda: self._converted(self._rows(RESOURCES_QUERY, ids), problems)
        )
        for subscription_id, operation, item in converted:
            if subscription_id in found:
                found[subscription_id][operation].append(item)
        for (owner, list_name), said in problems.items():
            # a row whose subscription is not known stands for every subscription of the batch
            for subscription_id in [owner] if owner in errors else ids:
                errors[subscription_id].append(logged(malformed(list_name, f"{REQUEST} (Resources)", said)))
        for failure in (error, resources_error):
            if failure is not None:
                for subscription_id in ids:
                    errors[subscription_id].append(failure)
        return found, errors

    def _rows(self, query: str, subscription_ids: Sequence[str]) -> Iterator[Any]:
        """Every row of a query over these subscriptions, page by page ($skipToken)."""
        skip_token: str | None = None
        seen: set[str] = set()
        while not self.stopping.is_set():  # Ctrl-C: the run is ending, no page starts (what is read is not used)
            response = self._graph.resources(query_request(query, subscription_ids, skip_token))
            if not isinstance(response.data, list):
                raise GraphPagingError("Resource Graph answered without a list of rows")
            yield from response.data
            skip_token = response.skip_token or None
            if skip_token is None:
                if str(response.result_truncated).lower() == "true":
                    raise GraphPagingError("Resource Graph truncated the result and gave no $skipToken to page on")
                return
            if skip_token in seen:
                raise GraphPagingError("Resource Graph returned a $skipToken it had already given; paging stopped")
            seen.add(skip_token)

    @staticmethod
    def _converted(
        rows: Iterator[Any], problems: dict[tuple[str, str], list[str]]
    ) -> Iterator[tuple[str, ListName, Any]]:
        """Each row as (subscription, list, model item); a row that cannot be understood is left out and said in
        `problems`, under its subscription and list where they can be told."""
        for number, row in enumerate(rows, start=1):
            subscription_id = str(row.get("subscriptionId") or "").lower() if isinstance(row, Mapping) else ""
            kind = KIND_BY_GRAPH_TYPE.get(str(row.get("type") or "").lower()) if isinstance(row, Mapping) else None
            if kind is None:
                what = f"type {row.get('type')!r:.60}" if isinstance(row, Mapping) else type(row).__name__
                problems[(subscription_id, OPERATION)].append(f"row {number}: not a resource asked for ({what})")
                continue
            try:
                yield subscription_id, kind.operation, kind.convert(row, subscription_id)
            except (MalformedItem, RecursionError, UnicodeError) as err:
                problems[(subscription_id, kind.operation)].append(f"row {number}: {err}")

    def _add_children(
        self,
        pool: ThreadPoolExecutor,
        found: dict[str, dict[ListName, list[Any]]],
        errors: dict[str, list[CollectionError]],
    ) -> None:
        """Read through ARM what Graph rows do not carry, as ARM mode does: sites' slots and, where the row does not
        say how an app routes, `config/web`; firewall policies' rule collection groups; Virtual WAN hubs'
        connections, routing intent and route tables."""
        work = [
            (subscription_id, operation, index, item)
            for subscription_id, lists in found.items()
            for operation in CHILD_LISTS
            for index, item in enumerate(lists.get(operation, []))
        ]
        # One set of clients a subscription, as ARM mode has, not one an item.
        clients = {subscription_id: self._session.clients(subscription_id) for subscription_id in {w[0] for w in work}}

        def completed(
            subscription_id: str, operation: ListName, item: Any
        ) -> tuple[dict[ListName, list[Any]], list[CollectionError]]:
            failures: list[CollectionError] = []
            if self.stopping.is_set():
                return {operation: [item]}, failures
            return with_children(clients[subscription_id], operation, [item], failures), failures

        pending = [
            (subscription_id, operation, index, pool.submit(completed, subscription_id, operation, item))
            for subscription_id, operation, index, item in work
        ]
        for subscription_id, operation, index, future in pending:
            lists, failures = future.result()
            for name, items in lists.items():
                if name == operation:
                    found[subscription_id][operation][index] = items[0]
                else:
                    found[subscription_id][name] += items
            errors[subscription_id] += failures


# in a worker process: the run's Graph bucket and stop flag, given when the process starts
_shared: list[tuple[Bucket, Stopping]] = []
_collectors: dict[str, GraphCollector] = {}


def _start_worker(quota: Bucket, stopping: Stopping) -> None:
    """A worker process only reads: Ctrl-C is the first process's to handle (it tells the workers through
    `stopping`); it keeps the reading thresholds."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reading_threshold()
    _shared.append((quota, stopping))


def _read_chunk(
    recipe: CollectorRecipe, batches: Sequence[Sequence[Subscription]], tokens: dict[TokenKey, AccessTokenInfo]
) -> tuple[list[SubscriptionInventory], dict[str, float]]:
    """In a worker process: these batches' inventories, and what the counters gained while reading them. The
    collector is built once a process (keyed by the recipe's text: each task brings an equal copy)."""
    key = repr(recipe)
    if key not in _collectors:
        collector = _collectors[key] = GraphCollector.from_recipe(recipe)
        if _shared:
            collector.session.limiter.share_graph_quota(_shared[0][0])
            collector.stopping = _shared[0][1]
    collector = _collectors[key]
    collector.session.credential.seed(tokens)
    before = {name: getattr(collector.stats, name) for name in COUNTERS}
    inventories = collector.collect_batches(batches)
    return inventories, {name: getattr(collector.stats, name) - before[name] for name in COUNTERS}


def _not_in_graph(subscription_id: str) -> CollectionError:
    error = CollectionError(
        OPERATION,
        f"{REQUEST} (ResourceContainers)",
        "Resource Graph has no record of this subscription: the signed-in identity cannot read it there, or Graph "
        "has not indexed it yet; none of its resources were read (--source arm reads it list by list)",
        None,
        ErrorCode.NOT_IN_RESOURCE_GRAPH,
    )
    log.warning("could not read subscription %s: %s", subscription_id, error.message)
    return error
