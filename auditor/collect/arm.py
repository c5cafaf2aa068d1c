"""Collect through Azure Resource Manager list calls: every list of every subscription, on a bounded pool of
threads (and, for large tenants, in several processes), and the lists under an item (slots, config/web, rule
collection groups, Virtual WAN hub lists) that Resource Graph mode reads through here too.

The SDK clients do the talking; `auditor.collect.lists` turns each item into an `auditor.model` type.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.pipeline.transport import HttpTransport
from azure.mgmt.appcontainers import ContainerAppsAPIClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.containerinstance import ContainerInstanceManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.web import WebSiteManagementClient

from auditor.collect import network as net
from auditor.collect.billing import read_billing
from auditor.collect.interface import DEFAULT_MAX_WORKERS, Collector
from auditor.collect.lists import (
    AUDITED_KINDS,
    KINDS,
    RESOURCE_LISTS,
    ListKind,
    MalformedItem,
    inventory,
    malformed,
    needs_site_config,
    resource_group_of,
    routing_decision,
    routing_flags,
    understood,
)
from auditor.collect.policy import DEFAULT_HOST, CappedRetryPolicy, ReadPolicy
from auditor.collect.recipe import CollectorRecipe, built
from auditor.collect.replay import RecordingMiss
from auditor.collect.signin import sign_in_failure
from auditor.collect.throttle import RateLimiter, ScanStats
from auditor.collect.transport import WriteRefused
from auditor.model import (
    CollectionError,
    ErrorCode,
    FirewallPolicy,
    ListName,
    Resource,
    Subscription,
    SubscriptionInventory,
    TenantInventory,
    VirtualHub,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# Every failure a single list can meet: an HTTP error, a transport fault, a body that is not JSON
# (ValueError), or nested too deeply to decode (RecursionError), a refused write, a request the recording does
# not hold, or an answer shaped so that the SDK cannot page through it.
READ_FAILURES = (
    AzureError,
    ValueError,
    WriteRefused,
    RecordingMiss,
    RecursionError,
    # a malformed answer the SDK's own pager or deserialiser trips on (a nextLink that is a number)
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
)


def collection_error(operation: str, request: str, err: BaseException) -> CollectionError:
    failure = sign_in_failure(err)
    if failure is not None:
        return CollectionError(operation, request, failure, None, ErrorCode.SIGN_IN_FAILED)
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


def logged(error: CollectionError) -> CollectionError:
    log.warning("could not read %s", error.describe())
    return error


def _once_each(subscriptions: Sequence[Subscription]) -> list[Subscription]:
    """The subscription list without repeats (a subscription listed twice would be read twice, and its second
    reading would see every page as one already read)."""
    for subscription_id, times in Counter(s.subscription_id for s in subscriptions).items():
        if times > 1:
            log.warning(
                "subscription %s is listed %d times by the subscription list; audited once", subscription_id, times
            )
    first = {s.subscription_id: s for s in reversed(subscriptions)}  # the first listing wins
    return [first[subscription_id] for subscription_id in dict.fromkeys(s.subscription_id for s in subscriptions)]


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
    subscription_id = getattr(sdk, "subscription_id", None)
    if not isinstance(subscription_id, str) or not subscription_id.strip():
        raise MalformedItem(f"not a subscription: {type(sdk).__name__} without a text subscriptionId")
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


class _Clients:
    """A subscription's management clients, each built when its first list asks for it."""

    def __init__(self, make: Callable[[type[Any]], Any]) -> None:
        self._make = make
        self._built: dict[type[Any], Any] = {}
        self._lock = threading.Lock()

    def _client(self, kind: type[Any]) -> Any:
        with self._lock:
            if kind not in self._built:
                self._built[kind] = self._make(kind)
            return self._built[kind]

    @property
    def compute(self) -> ComputeManagementClient:
        return self._client(ComputeManagementClient)

    @property
    def network(self) -> NetworkManagementClient:
        return self._client(NetworkManagementClient)

    @property
    def web(self) -> WebSiteManagementClient:
        return self._client(WebSiteManagementClient)

    @property
    def apps(self) -> ContainerAppsAPIClient:
        return self._client(ContainerAppsAPIClient)

    @property
    def containers(self) -> ContainerInstanceManagementClient:
        return self._client(ContainerInstanceManagementClient)


def _rest_payload(model: Any) -> Any:
    """Older (msrest) SDK models are not mappings of REST names: their REST form is."""
    return model.serialize(keep_readonly=True) if hasattr(model, "serialize") else model


# How each list is read through the SDK, by list (`auditor.collect.lists.KINDS` says what it holds).
PAGES: dict[ListName, Callable[[_Clients], Iterable[Any]]] = {
    ListName.VIRTUAL_MACHINES: lambda c: c.compute.virtual_machines.list_all(),
    ListName.SCALE_SETS: lambda c: c.compute.virtual_machine_scale_sets.list_all(),
    ListName.SITES: lambda c: c.web.web_apps.list(),
    ListName.HOSTING_ENVIRONMENTS: lambda c: c.web.app_service_environments.list(),
    ListName.AZURE_FIREWALLS: lambda c: c.network.azure_firewalls.list_all(),
    ListName.CONTAINER_APPS: lambda c: c.apps.container_apps.list_by_subscription(),
    ListName.CONTAINER_GROUPS: lambda c: map(_rest_payload, c.containers.container_groups.list()),
    ListName.NETWORK_INTERFACES: lambda c: c.network.network_interfaces.list_all(),
    ListName.PUBLIC_IP_ADDRESSES: lambda c: c.network.public_ip_addresses.list_all(),
    ListName.NETWORK_SECURITY_GROUPS: lambda c: c.network.network_security_groups.list_all(),
    ListName.ROUTE_TABLES: lambda c: c.network.route_tables.list_all(),
    ListName.VIRTUAL_NETWORKS: lambda c: c.network.virtual_networks.list_all(),
    ListName.NAT_GATEWAYS: lambda c: c.network.nat_gateways.list_all(),
    ListName.LOAD_BALANCERS: lambda c: c.network.load_balancers.list_all(),
    ListName.FIREWALL_POLICIES: lambda c: c.network.firewall_policies.list_all(),
    ListName.IP_GROUPS: lambda c: c.network.ip_groups.list(),
    ListName.VIRTUAL_HUBS: lambda c: c.network.virtual_hubs.list(),
}


def _child_path(parent_id: str, child: str) -> str:
    return f"GET {parent_id}/{child}"


def with_rule_groups(clients: _Clients, policy: FirewallPolicy, failures: list[CollectionError]) -> FirewallPolicy:
    """A firewall policy with its rule collection groups (a list under the policy); None when it failed."""
    group = resource_group_of(policy.policy_id)
    groups, error = read_all(
        f"firewallPolicies/{policy.name}/ruleCollectionGroups",
        _child_path(policy.policy_id, "ruleCollectionGroups"),
        lambda: map(
            net.rule_collection_group,
            clients.network.firewall_policy_rule_collection_groups.list(group, policy.name),
        ),
    )
    if error is not None:
        failures.append(error)
        return replace(policy, groups=None)
    return replace(policy, groups=tuple(groups))


def with_hub_routing(clients: _Clients, hub: VirtualHub, failures: list[CollectionError]) -> VirtualHub:
    """A Virtual WAN hub with its spoke connections, routing intent and route tables (three lists under it)."""
    group, operations = resource_group_of(hub.hub_id), clients.network

    def child(name: str, pages: Callable[[], Iterable[Any]]) -> tuple[list[Any], bool]:
        items, error = read_all(f"virtualHubs/{hub.name}/{name}", _child_path(hub.hub_id, name), pages)
        if error is not None:
            failures.append(error)
        return items, error is None

    connections, connections_read = child(
        "hubVirtualNetworkConnections",
        lambda: map(net.hub_connection, operations.hub_virtual_network_connections.list(group, hub.name)),
    )
    intents, intent_read = child(
        "routingIntent", lambda: map(net.internet_next_hop, operations.routing_intent.list(group, hub.name))
    )
    tables, tables_read = child(
        "hubRouteTables", lambda: map(net.hub_route_table, operations.hub_route_tables.list(group, hub.name))
    )
    return replace(
        hub,
        connections=tuple(connections) if connections_read else None,
        internet_next_hop=next((hop for hop in intents if hop), None),
        routing_intent_read=intent_read,
        route_tables=tuple(tables) if tables_read else None,
    )


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
        # requests go to the cloud's own Resource Manager (Resource Graph is on the same host): nowhere else
        self._hosts = frozenset({(urlsplit(base_url).hostname or "") if base_url else DEFAULT_HOST})
        if credential_scopes is not None:
            self._options["credential_scopes"] = list(credential_scopes)

    def client_options(self) -> dict[str, Any]:
        """Per client: its own policy objects (a pipeline links them), sharing the limiter, stats and transport."""
        return {
            **self._options,
            "custom_hook_policy": ReadPolicy(self._limiter, self.stats, self._hosts),
            "retry_policy": CappedRetryPolicy(retry_total=RETRY_TOTAL),
        }

    def _clients(self, subscription_id: str) -> _Clients:
        # each client its own policy objects: a pipeline links the ones it is given
        return _Clients(lambda kind: kind(self._credential, subscription_id, **self.client_options()))

    def visible_subscriptions(self, scope: Sequence[str] = ()) -> tuple[list[Subscription], TenantInventory]:
        """The subscriptions to read (all visible, or those of `scope`) and an inventory of what cannot be:
        scope entries the identity does not see, or, when the list itself fails, every entry of the scope."""
        client = SubscriptionClient(self._credential, **self.client_options())
        # The CLI says a failed subscription list itself, in one line, even with --quiet.
        problems: list[str] = []
        listed, error = read_all(
            "subscriptions",
            "GET /subscriptions",
            lambda: understood(client.subscriptions.list(), _subscription, problems),
            logged=False,
        )
        if error is not None:
            return [], TenantInventory(subscriptions=tuple(self._unreadable(scope)), errors=(error,))
        subscriptions = _once_each(listed)
        notes = (malformed("subscriptions", "GET /subscriptions", problems),) if problems else ()
        wanted = {s.lower() for s in scope}
        chosen = [s for s in subscriptions if not wanted or s.subscription_id in wanted]
        missing = sorted(wanted - {s.subscription_id for s in subscriptions})
        self.stats.add(subscriptions_total=len(chosen))
        return chosen, TenantInventory(subscriptions=tuple(self._unreadable(missing)), errors=notes)

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
        found: dict[str, dict[ListName, list[Any]]] = {s.subscription_id: {} for s in subscriptions}
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
            request = f"GET /subscriptions/{subscription_id}/{kind.path}"
            problems: list[str] = []
            items, error = read_all(
                kind.operation,
                request,
                lambda: understood(
                    PAGES[kind.operation](client), lambda item: kind.convert(item, subscription_id), problems
                ),
            )
            failures = [error] if error is not None else []
            if problems:
                failures.append(logged(malformed(kind.operation, request, problems)))
            lists = self.with_children(client, kind.operation, items, failures)
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

    def clients(self, subscription_id: str) -> _Clients:
        return self._clients(subscription_id)

    @classmethod
    def with_children(
        cls, clients: _Clients, operation: ListName, items: list[Any], failures: list[CollectionError]
    ) -> dict[ListName, list[Any]]:
        """A list's items with what lists under them say, and the lists read under them (slots under sites);
        both sources read these through ARM."""
        if operation is ListName.SITES:
            sites = [cls.with_routing(clients.web, site, failures) for site in items]
            return {
                ListName.SITES: sites,
                ListName.SLOTS: [s for site in sites for s in cls.slots(clients, site, failures)],
            }
        if operation is ListName.FIREWALL_POLICIES:
            return {operation: [with_rule_groups(clients, policy, failures) for policy in items]}
        if operation is ListName.VIRTUAL_HUBS:
            return {operation: [with_hub_routing(clients, hub, failures) for hub in items]}
        return {operation: items}

    @classmethod
    def slots(cls, clients: _Clients, site: Resource, failures: list[CollectionError]) -> list[Resource]:
        """A site's deployment slots, findings of their own, each with its own routing."""
        convert = AUDITED_KINDS[ListName.SLOTS].convert
        slots, error = read_all(
            f"{ListName.SITES}/{site.name}/{ListName.SLOTS}",
            f"GET {site.resource_id}/slots",
            lambda: (
                convert(item, site.subscription_id)
                for item in clients.web.web_apps.list_slots(site.resource_group, site.name)
            ),
        )
        if error is not None:
            failures.append(error)
        return [cls.with_routing(clients.web, slot, failures) for slot in slots]

    @staticmethod
    def with_routing(web: WebSiteManagementClient, site: Resource, failures: list[CollectionError]) -> Resource:
        """An integrated site (or slot) whose payload does not say it routes into the VNet, with what `config/web`
        says (`vnetRouteAllEnabled`; older sites say it only there) weighed with its payload's flags."""
        app = site.app
        if app is None or not needs_site_config(site):
            return site
        group = site.resource_group
        name, _, slot = site.name.partition("/")
        operation = f"sites/{name}" + (f"/slots/{slot}" if slot else "") + "/config/web"
        configs, error = read_all(
            operation,
            f"GET {site.resource_id}/config/web",
            lambda: [
                web.web_apps.get_configuration_slot(group, name, slot)
                if slot
                else web.web_apps.get_configuration(group, name)
            ],
        )
        if error is not None:
            failures.append(error)
            return site
        flags = dict(app.routing_flags)
        flags.update(
            (f"its config/web's {name}", value) for name, value in routing_flags(configs[0].properties).items()
        )
        routed, note = routing_decision(flags)
        return replace(
            site, app=replace(app, routes_app_traffic=routed, routing_note=note, routing_flags=tuple(flags.items()))
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
