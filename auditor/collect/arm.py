"""Collect through Azure Resource Manager list calls, one subscription at a time.

The only module that reads SDK models: each is turned into a `auditor.model` type here.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.pipeline.policies import RetryPolicy
from azure.core.pipeline.transport import HttpTransport
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.web import WebSiteManagementClient

from auditor.collect.billing import read_billing
from auditor.collect.interface import DEFAULT_MAX_WORKERS, Collector
from auditor.collect.lists import KINDS, RESOURCE_LISTS, ListKind, inventory, needs_site_config, routes_app_traffic
from auditor.collect.policy import ReadPolicy
from auditor.collect.recipe import CollectorRecipe, built
from auditor.collect.replay import RecordingMiss
from auditor.collect.signin import sign_in_failure
from auditor.collect.throttle import RateLimiter, ScanStats
from auditor.collect.transport import WriteRefused
from auditor.model import (
    AppNetworking,
    CollectionError,
    Resource,
    Subscription,
    SubscriptionInventory,
    TenantInventory,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Every failure a single list can meet: an HTTP error, a transport fault, a body that is not JSON
# (ValueError), a refused write, or a request the recording does not hold.
READ_FAILURES = (AzureError, ValueError, WriteRefused, RecordingMiss)


def collection_error(operation: str, request: str, err: BaseException) -> CollectionError:
    failure = sign_in_failure(err)
    if failure is not None:
        return CollectionError(operation, request, failure, None, "SignInFailed")
    if isinstance(err, HttpResponseError):
        status = err.status_code
        code = getattr(err.error, "code", None) or ""
        message = getattr(err.error, "message", None) or err.reason or str(err)
        url = getattr(getattr(err.response, "request", None), "url", None)
        if url:
            request = f"{err.response.request.method} {_path_and_query(url)}"  # type: ignore[union-attr]
        return CollectionError(operation, request, _one_line(message), status, code)
    if isinstance(err, WriteRefused) and err.url.split("?")[0].lower().endswith("/register"):
        return CollectionError(
            operation,
            request,
            "the resource provider is not registered in this subscription and the SDK asked to register it; "
            "port25-audit only reads, so it did not (register the provider, or ignore this list if nothing uses it)",
            409,
            "ProviderNotRegistered",
        )
    if isinstance(err, RecordingMiss):
        return CollectionError(
            operation,
            f"{err.method} {_path_and_query(err.url)}",
            "the recording has no entry for this request",
            None,
            "NotRecorded",
        )
    return CollectionError(operation, request, _one_line(str(err)) or type(err).__name__, None, type(err).__name__)


def _path_and_query(url: str) -> str:
    match = re.match(r"^[a-z]+://[^/]+(.*)$", url, re.IGNORECASE)
    return match.group(1) if match else url


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def read_all(
    operation: str, request: str, pages: Callable[[], Iterable[T]], *, logged: bool = True
) -> tuple[list[T], CollectionError | None]:
    """Every item of a paged list; on failure, what was read before it and the error (logged once, unless the
    caller says it itself)."""
    items: list[T] = []
    try:
        for item in pages():
            items.append(item)
    except READ_FAILURES as err:
        error = collection_error(operation, request, err)
        if logged:
            log.warning("could not read %s", error.describe())
        return items, error
    return items, None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _subscription(sdk: Any) -> Subscription:
    policies = sdk.subscription_policies
    return Subscription(
        subscription_id=_text(sdk.subscription_id).lower(),
        display_name=_text(sdk.display_name),
        state=_text(getattr(sdk.state, "value", sdk.state)),
        tenant_id=_text(sdk.tenant_id),
        quota_id=(policies.quota_id if policies is not None else None) or None,
    )


RETRY_TOTAL = 8
SUBSCRIPTIONS_FOR_PROCESSES = 50  # smaller tenants are read by this process's threads alone
SMALLEST_CHUNK = 10


def chunk_size(remaining: int, processes: int) -> int:
    """The next chunk for a process: a share of what is left (guided self-scheduling), so chunks shrink towards
    the end and the processes finish together, even when a worker started seconds late. Never below
    SMALLEST_CHUNK: a chunk has a fixed cost (its thread pool's last lists, its results sent back)."""
    return min(remaining, max(SMALLEST_CHUNK, -(-remaining // (2 * processes))))


@dataclass(frozen=True)
class _Clients:
    compute: ComputeManagementClient
    network: NetworkManagementClient
    web: WebSiteManagementClient


# How each list is read through the SDK, by operation (`auditor.collect.lists.KINDS` says what it holds).
PAGES: dict[str, Callable[[_Clients], Iterable[Any]]] = {
    "virtualMachines": lambda c: c.compute.virtual_machines.list_all(),
    "virtualMachineScaleSets": lambda c: c.compute.virtual_machine_scale_sets.list_all(),
    "sites": lambda c: c.web.web_apps.list(),
    "hostingEnvironments": lambda c: c.web.app_service_environments.list(),
    "azureFirewalls": lambda c: c.network.azure_firewalls.list_all(),
    "networkInterfaces": lambda c: c.network.network_interfaces.list_all(),
    "publicIPAddresses": lambda c: c.network.public_ip_addresses.list_all(),
    "networkSecurityGroups": lambda c: c.network.network_security_groups.list_all(),
    "routeTables": lambda c: c.network.route_tables.list_all(),
    "virtualNetworks": lambda c: c.network.virtual_networks.list_all(),
    "natGateways": lambda c: c.network.nat_gateways.list_all(),
    "loadBalancers": lambda c: c.network.load_balancers.list_all(),
}


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
        self._credential = credential
        self._max_workers = max(1, max_workers)
        self._processes = max(1, processes) if recipe is not None else 1
        self._recipe = recipe
        self._limiter = limiter or RateLimiter()
        self.stats = stats or ScanStats()
        self._options: dict[str, Any] = {}
        if transport is not None:
            self._options["transport"] = transport
        if base_url is not None:
            self._options["base_url"] = base_url
        if credential_scopes is not None:
            self._options["credential_scopes"] = list(credential_scopes)

    def client_options(self) -> dict[str, Any]:
        """Per client: its own policy objects (a pipeline links them), sharing the limiter, stats and transport."""
        return {
            **self._options,
            "custom_hook_policy": ReadPolicy(self._limiter, self.stats),
            "retry_policy": RetryPolicy(retry_total=RETRY_TOTAL),
        }

    def _clients(self, subscription_id: str) -> _Clients:
        options = self.client_options()
        return _Clients(
            ComputeManagementClient(self._credential, subscription_id, **options),
            NetworkManagementClient(self._credential, subscription_id, **options),
            WebSiteManagementClient(self._credential, subscription_id, **options),
        )

    def visible_subscriptions(self, scope: Sequence[str] = ()) -> tuple[list[Subscription], TenantInventory]:
        """The subscriptions to read (all visible, or those of `scope`) and an inventory of what cannot be:
        scope entries the identity does not see, or, when the list itself fails, every entry of the scope."""
        client = SubscriptionClient(self._credential, **self.client_options())
        # The CLI says a failed subscription list itself, in one line, even with --quiet.
        subscriptions, error = read_all(
            "subscriptions", "GET /subscriptions", lambda: map(_subscription, client.subscriptions.list()), logged=False
        )
        if error is not None:
            return [], TenantInventory(subscriptions=tuple(self._unreadable(scope)), errors=(error,))
        wanted = {s.lower() for s in scope}
        chosen = [s for s in subscriptions if not wanted or s.subscription_id in wanted]
        missing = sorted(wanted - {s.subscription_id for s in subscriptions})
        self.stats.add(subscriptions_total=len(chosen))
        return chosen, TenantInventory(subscriptions=tuple(self._unreadable(missing)))

    def collect(self, scope: Sequence[str] = ()) -> TenantInventory:
        with fewer_garbage_collections():
            chosen, unreadable = self.visible_subscriptions(scope)
            if self._processes > 1 and len(chosen) >= SUBSCRIPTIONS_FOR_PROCESSES:
                inventories = self._collect_in_processes(chosen)
            else:
                inventories = self.collect_subscriptions(chosen)
            return self.tenant(inventories, unreadable)

    def tenant(self, inventories: Sequence[SubscriptionInventory], unreadable: TenantInventory) -> TenantInventory:
        """The run's inventory: the subscriptions read, those that could not be, and what billing accounts say of
        them (MCA-E, Enterprise Dev/Test). Billing is not asked when the subscription list itself failed."""
        billing, note = (
            ((), "") if unreadable.errors else read_billing(self._credential, self.client_options(), READ_FAILURES)
        )
        return replace(
            unreadable, subscriptions=tuple(inventories) + unreadable.subscriptions, billing=billing, billing_note=note
        )

    def collect_subscriptions(
        self, subscriptions: Sequence[Subscription], max_workers: int | None = None
    ) -> list[SubscriptionInventory]:
        found: dict[str, dict[str, list[Any]]] = {s.subscription_id: {} for s in subscriptions}
        errors: dict[str, list[CollectionError]] = {s.subscription_id: [] for s in subscriptions}
        remaining = {s.subscription_id: len(KINDS) for s in subscriptions}
        # A subscription's clients are built by its first task, on the pool: building them all before the
        # first request would leave every thread idle for milliseconds a subscription.
        clients: dict[str, _Clients] = {}
        building = {s.subscription_id: threading.Lock() for s in subscriptions}
        lock = threading.Lock()

        def clients_of(subscription_id: str) -> _Clients:
            with building[subscription_id]:
                if subscription_id not in clients:
                    clients[subscription_id] = self._clients(subscription_id)
                return clients[subscription_id]

        def task(subscription_id: str, kind: ListKind) -> None:
            client = clients_of(subscription_id)
            items, error = read_all(
                kind.operation,
                f"GET /subscriptions/{subscription_id}/{kind.path}",
                lambda: (kind.convert(item, subscription_id) for item in PAGES[kind.operation](client)),
            )
            failures = [error] if error is not None else []
            if kind.operation == "sites":
                items = [self.with_routing(client.web, site, failures) for site in items]
            with lock:
                found[subscription_id][kind.operation] = items
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

    def web_client(self, subscription_id: str) -> WebSiteManagementClient:
        return WebSiteManagementClient(self._credential, subscription_id, **self.client_options())

    @staticmethod
    def with_routing(web: WebSiteManagementClient, site: Resource, failures: list[CollectionError]) -> Resource:
        """Older sites say whether they route all traffic only in `config/web` (`vnetRouteAllEnabled`)."""
        app = site.app
        if app is None or not needs_site_config(site):
            return site
        group, name = site.resource_group, site.name
        path = f"/subscriptions/{site.subscription_id}/resourceGroups/{group}/providers/Microsoft.Web/sites/{name}"
        configs, error = read_all(
            f"sites/{name}/config/web", f"GET {path}/config/web", lambda: [web.web_apps.get_configuration(group, name)]
        )
        if error is not None:
            failures.append(error)
            return site
        return replace(
            site, app=AppNetworking(app.subnet_id, routes_app_traffic(configs[0].properties), app.environment_id)
        )

    @staticmethod
    def _unreadable(subscription_ids: Iterable[str]) -> Iterator[SubscriptionInventory]:
        for subscription_id in subscription_ids:
            subscription = Subscription(subscription_id.lower(), "", "Unknown", "", None)
            error = CollectionError(
                "subscriptions",
                "GET /subscriptions",
                "the subscription is not in the list of subscriptions the signed-in identity can see",
                None,
                "NotVisible",
            )
            log.warning("could not read subscription %s: %s", subscription_id, error.message)
            yield SubscriptionInventory(subscription, errors=(error,))


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
    collector = built(recipe)
    before = {name: getattr(collector.stats, name) for name in COUNTERS}
    inventories = collector.collect_subscriptions(subscriptions)
    return inventories, {name: getattr(collector.stats, name) - before[name] for name in COUNTERS}
