"""The lists a subscription is read from, and how each one's items become our model types.

Both sources read the same lists: ARM mode with one list call per subscription, Resource Graph mode with one
query over many subscriptions. Either way an item is an ARM payload read as a mapping of REST names (an SDK
model or a Graph row), so one converter per list serves both.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from auditor.collect import network as net
from auditor.collect.errors import logged
from auditor.collect.network import MalformedItem
from auditor.model import (
    AUDITED_TYPES,
    AppNetworking,
    AppServiceEnvironment,
    CollectionError,
    ErrorCode,
    ListName,
    NetworkInventory,
    PowerState,
    Resource,
    ResourceCategory,
    Subscription,
    SubscriptionInventory,
    routing_sides,
)

_RESOURCE_GROUP = re.compile(r"/resourceGroups/([^/]+)", re.IGNORECASE)


def resource_group_of(resource_id: str) -> str:
    match = _RESOURCE_GROUP.search(resource_id)
    return match.group(1) if match else ""


def region_name(location: str) -> str:
    """A region's programmatic name ("westeurope"): App Service lists give display names ("West Europe"),
    Resource Graph gives the short form."""
    return location.lower().replace(" ", "")


T = TypeVar("T")


def checked(raw: Any) -> Any:
    """The item, if it is an ARM resource at all: an object with a text `id` and `type`."""
    if not isinstance(raw, Mapping):
        raise MalformedItem(f"not an object but {type(raw).__name__}")
    for name in ("id", "type"):
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            raise MalformedItem(f"no text '{name}'" + (f" (id {raw.get('id')!r:.80})" if name == "type" else ""))
    return raw


def understood(items: Iterable[Any], convert: Callable[[Any], T], problems: list[str]) -> Iterator[T]:
    """Each item converted; one that cannot be understood is left out and said in `problems`, so one bad item
    costs only itself."""
    for number, item in enumerate(items, start=1):
        try:
            yield convert(item)
        except (MalformedItem, RecursionError, UnicodeError) as err:
            identifier = item.get("id") if isinstance(item, Mapping) else None
            named = f" ({identifier:.200})" if isinstance(identifier, str) and identifier else ""
            problems.append(f"item {number}{named}: {err}")


def malformed(operation: str, request: str, problems: Sequence[str]) -> CollectionError:
    shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
    return CollectionError(
        operation,
        request,
        f"{len(problems)} item(s) could not be understood and were left out ({shown})",
        None,
        ErrorCode.MALFORMED_ITEM,
    )


@dataclass(frozen=True)
class ListKind:
    """One list of a subscription: its operation name, ARM resource type, and conversion of an item."""

    operation: ListName
    resource_type: str
    conversion: Callable[[Any, str], Any]

    def convert(self, raw: Any, subscription_id: str) -> Any:
        """The item as our model type; MalformedItem when it is not an ARM resource."""
        return self.conversion(checked(raw), subscription_id)

    @property
    def path(self) -> str:
        """The list's path under `/subscriptions/{id}/`."""
        return f"providers/{self.resource_type}"


def _resource(raw: Any, subscription_id: str, category: ResourceCategory, resource_type: str) -> Resource:
    """An audited resource. The type is the list's own (Resource Graph lower-cases types; ARM does not)."""
    resource_id = net.field(raw, "id")
    return Resource(
        resource_id=resource_id,
        name=net.field(raw, "name"),
        resource_type=resource_type,
        kind=net.one_copy(net.field(raw, "kind")),
        location=net.one_copy(region_name(net.field(raw, "location"))),
        resource_group=net.one_copy(resource_group_of(resource_id)),
        subscription_id=subscription_id,
        category=category,
        tags=_tags(raw.get("tags") if isinstance(raw, Mapping) else None),
        **FIELDS_BY_CATEGORY[category](resource_id, net.properties_of(raw)),
    )


def _tags(value: Any) -> tuple[tuple[str, str], ...]:
    """A resource's tags as (name, value) pairs; a value that is not text is read as its text (Azure stores text)."""
    if not isinstance(value, Mapping):
        return ()
    return tuple(
        (net.one_copy(str(name)), net.one_copy("" if tag is None else str(tag))) for name, tag in value.items()
    )


def _machine_fields(resource_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    scale_set = properties.get("virtualMachineScaleSet")
    return {
        "nic_ids": net.vm_interface_ids(properties),
        # only VMs of flexible-orchestration sets are in the VM list, and they name their set
        "scale_set_id": (scale_set.get("id") if isinstance(scale_set, Mapping) else None) or None,
        "created": _timestamp(properties.get("timeCreated")),
        "state": _power_state(properties),
    }


# A VM's instance view says its power state as a status code (PowerState/running, /deallocated, /stopped, …).
# Resource Graph's VM rows carry it (`properties.extended.instanceView.powerState.code`), with no request of its
# own; an ARM list item carries it where its instance view is included; else it is not known (never one request
# per VM).
_POWER_STATES = {
    "powerstate/running": PowerState.RUNNING,
    "powerstate/starting": PowerState.RUNNING,
    "powerstate/stopped": PowerState.STOPPED,
    "powerstate/stopping": PowerState.STOPPED,
    "powerstate/deallocated": PowerState.DEALLOCATED,
    "powerstate/deallocating": PowerState.DEALLOCATED,
}


def _power_state(properties: Mapping[str, Any]) -> PowerState | None:
    extended = properties.get("extended")
    graph_view = extended.get("instanceView") if isinstance(extended, Mapping) else None
    power = graph_view.get("powerState") if isinstance(graph_view, Mapping) else None
    instance_view = properties.get("instanceView")
    statuses = instance_view.get("statuses") if isinstance(instance_view, Mapping) else None
    for status in [power, *(statuses if isinstance(statuses, list) else ())]:
        code = status.get("code") if isinstance(status, Mapping) else None
        if isinstance(code, str) and code.lower() in _POWER_STATES:
            return _POWER_STATES[code.lower()]
    return None


def _site_state(properties: Mapping[str, Any]) -> PowerState | None:
    """A site's (or slot's) `state`: Running or Stopped."""
    return {"running": PowerState.RUNNING, "stopped": PowerState.STOPPED}.get(str(properties.get("state")).lower())


def _firewall_fields(resource_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    networking = net.firewall_networking(properties)
    return {
        "firewall": networking,
        "state": PowerState.DEALLOCATED if networking.deallocated else PowerState.RUNNING,
    }


def _scale_set_fields(resource_id: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "nics": net.scale_set_interfaces(resource_id, properties),
        "flexible": str(properties.get("orchestrationMode") or "").lower() == "flexible",
    }


# What each category's items carry besides what every resource has (a category whose network is not followed,
# other PaaS, carries nothing more). `tests/test_registration.py` checks every category has a row.
FIELDS_BY_CATEGORY: dict[ResourceCategory, Callable[[str, Mapping[str, Any]], dict[str, Any]]] = {
    ResourceCategory.VIRTUAL_MACHINE: _machine_fields,
    ResourceCategory.SCALE_SET: _scale_set_fields,
    ResourceCategory.APP_SERVICE: lambda _, properties: {
        "app": _app_networking(properties),
        "state": _site_state(properties),
    },
    ResourceCategory.FIREWALL: _firewall_fields,
    ResourceCategory.CONTAINER_APP: lambda *_: {},
    ResourceCategory.CONTAINER_INSTANCE: lambda *_: {},
}


def _timestamp(value: Any) -> dt.datetime | None:
    """An ARM timestamp (SDK models give datetimes, Resource Graph rows and older API versions give text)."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    # ARM writes seven fractional digits; Python's parser takes at most six
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _environment(raw: Any) -> AppServiceEnvironment:
    network = net.properties_of(raw).get("virtualNetwork")
    return AppServiceEnvironment(
        environment_id=net.field(raw, "id"),
        name=net.field(raw, "name"),
        kind=net.field(raw, "kind"),
        subnet_id=(network.get("id") if isinstance(network, Mapping) else None) or None,
    )


def routing_flags(site_properties: Any) -> dict[str, bool]:
    """The routing flags a site (or slot, or its `config/web`) payload sets, by name.

    Current API versions: `outboundVnetRouting.applicationTraffic` / `.allTraffic`.
    Older ones: `vnetRouteAllEnabled` on the site or on its `siteConfig` (and in `config/web`).
    """
    if not isinstance(site_properties, Mapping):
        return {}
    routing = site_properties.get("outboundVnetRouting")
    routing = routing if isinstance(routing, Mapping) else {}
    config = site_properties.get("siteConfig")
    config = config if isinstance(config, Mapping) else {}
    named = {
        "outboundVnetRouting.applicationTraffic": routing.get("applicationTraffic"),
        "outboundVnetRouting.allTraffic": routing.get("allTraffic"),
        "vnetRouteAllEnabled": site_properties.get("vnetRouteAllEnabled"),
        "siteConfig.vnetRouteAllEnabled": config.get("vnetRouteAllEnabled"),
    }
    return {name: value for name, value in named.items() if isinstance(value, bool)}


def routing_decision(flags: Mapping[str, bool]) -> tuple[bool | None, str]:
    """Whether the app's outbound traffic is routed into its VNet, and which flags said so (named with where they
    were read). Where flags disagree, the reading with more exposure (routed: the port-25 path exists) is taken,
    and the note names both sides."""
    on, off = routing_sides(flags.items())
    if on and off:
        return True, (
            f"{', '.join(on)} true but {', '.join(off)} false: taken as routed, the reading with more exposure"
        )
    if on:
        return True, f"{on[0]} true"
    if off:
        return False, f"{', '.join(off)} false"
    return None, ""


def routes_app_traffic(site_properties: Any) -> bool | None:
    """Whether the app's own outbound traffic is routed into its integration VNet; None when the site does not say."""
    return routing_decision(routing_flags(site_properties))[0]


def _app_networking(properties: Mapping[str, Any]) -> AppNetworking:
    profile = properties.get("hostingEnvironmentProfile")
    flags = {f"its payload's {name}": value for name, value in routing_flags(properties).items()}
    routed, note = routing_decision(flags)
    return AppNetworking(
        subnet_id=properties.get("virtualNetworkSubnetId") or None,
        routes_app_traffic=routed,
        environment_id=(profile.get("id") if isinstance(profile, Mapping) else None) or None,
        routing_note=note,
        routing_flags=tuple(flags.items()),
    )


def needs_site_config(site: Resource) -> bool:
    """An integrated app (or slot) whose payload does not say it routes into the VNet: `config/web` may say so
    (older sites say it only there), and where the two disagree the reading with more exposure stands."""
    app = site.app
    return app is not None and bool(app.subnet_id) and app.routes_app_traffic is not True


def _audited(category: ResourceCategory, resource_type: str, operation: ListName) -> ListKind:
    return ListKind(operation, resource_type, lambda raw, sub: _resource(raw, sub, category, resource_type))


def _network(operation: ListName, resource_type: str, convert: Callable[[Any], Any]) -> ListKind:
    return ListKind(operation, resource_type, lambda raw, sub: convert(raw))


# Every audited type converts alike (`auditor.model.AUDITED_TYPES`); the others are what the network path needs.
AUDITED_KINDS: dict[ListName, ListKind] = {
    t.list_name: _audited(t.category, t.resource_type, t.list_name) for t in AUDITED_TYPES
}
SUPPORTING_KINDS: tuple[ListKind, ...] = (
    _network(ListName.HOSTING_ENVIRONMENTS, "Microsoft.Web/hostingEnvironments", _environment),
    _network(ListName.NETWORK_INTERFACES, "Microsoft.Network/networkInterfaces", net.network_interface),
    _network(ListName.PUBLIC_IP_ADDRESSES, "Microsoft.Network/publicIPAddresses", net.public_ip),
    _network(ListName.NETWORK_SECURITY_GROUPS, "Microsoft.Network/networkSecurityGroups", net.security_group),
    _network(ListName.ROUTE_TABLES, "Microsoft.Network/routeTables", net.route_table),
    _network(ListName.VIRTUAL_NETWORKS, "Microsoft.Network/virtualNetworks", net.virtual_network),
    _network(ListName.NAT_GATEWAYS, "Microsoft.Network/natGateways", net.nat_gateway),
    _network(ListName.LOAD_BALANCERS, "Microsoft.Network/loadBalancers", net.load_balancer),
    _network(ListName.FIREWALL_POLICIES, "Microsoft.Network/firewallPolicies", net.firewall_policy),
    _network(ListName.IP_GROUPS, "Microsoft.Network/ipGroups", net.ip_group),
    _network(ListName.VIRTUAL_HUBS, "Microsoft.Network/virtualHubs", net.virtual_hub),
)
# The lists read once per subscription; lists under an item (slots under sites) are read with their parent.
KINDS: tuple[ListKind, ...] = (
    *(AUDITED_KINDS[t.list_name] for t in AUDITED_TYPES if t.parent_list is None),
    *SUPPORTING_KINDS,
)
RESOURCE_LISTS: tuple[ListName, ...] = tuple(t.list_name for t in AUDITED_TYPES)
LIST_ORDER: dict[str, int] = {kind.operation: index for index, kind in enumerate(KINDS)}


def _once_each(
    subscription_id: str, operation: ListName, resources: Sequence[Resource], repeated: list[CollectionError]
) -> list[Resource]:
    """A list's resources ordered by id, each once: a list that names a resource twice (an answer that paged
    while the list changed) is said as an error of that list, since its pages may have skipped another."""
    by_id: dict[str, Resource] = {}
    times: dict[str, int] = {}
    for resource in resources:
        key = resource.resource_id.lower()
        by_id.setdefault(key, resource)
        times[key] = times.get(key, 0) + 1
    twice = [(by_id[key].resource_id, count) for key, count in times.items() if count > 1]
    if twice:
        shown = "; ".join(f"{rid} ({count} times)" for rid, count in twice[:3])
        more = f"; and {len(twice) - 3} more" if len(twice) > 3 else ""
        repeated.append(
            logged(
                CollectionError(
                    operation,
                    f"GET /subscriptions/{subscription_id}/{AUDITED_KINDS[operation].path}",
                    f"the list named {len(twice)} resource(s) more than once, each audited once ({shown}{more}); its "
                    "pages may have shifted while it was read, so a resource may be missing",
                    None,
                    ErrorCode.DUPLICATE_ITEM,
                )
            )
        )
    return [by_id[key] for key in sorted(by_id)]


def inventory(
    subscription: Subscription, found: Mapping[ListName, Sequence[Any]], errors: Sequence[CollectionError]
) -> SubscriptionInventory:
    """A subscription's inventory from its converted lists (by operation); errors in list order.

    Resources are ordered by list, then id, so reports come out in the same order whichever source read them.
    """

    def items(operation: ListName) -> Sequence[Any]:
        return found.get(operation, ())

    network = NetworkInventory(
        interfaces=tuple(items(ListName.NETWORK_INTERFACES)),
        public_ips=tuple(items(ListName.PUBLIC_IP_ADDRESSES)),
        security_groups=tuple(items(ListName.NETWORK_SECURITY_GROUPS)),
        route_tables=tuple(items(ListName.ROUTE_TABLES)),
        subnets=tuple(s for _, subnets in items(ListName.VIRTUAL_NETWORKS) for s in subnets),
        nat_gateways=tuple(items(ListName.NAT_GATEWAYS)),
        load_balancers=tuple(items(ListName.LOAD_BALANCERS)),
        virtual_networks=tuple(network for network, _ in items(ListName.VIRTUAL_NETWORKS)),
        firewall_policies=tuple(items(ListName.FIREWALL_POLICIES)),
        ip_groups=tuple(items(ListName.IP_GROUPS)),
        virtual_hubs=tuple(items(ListName.VIRTUAL_HUBS)),
    )
    repeated: list[CollectionError] = []
    resources = tuple(
        r
        for operation in RESOURCE_LISTS
        for r in _once_each(subscription.subscription_id, operation, items(operation), repeated)
    )
    ordered = sorted([*errors, *repeated], key=lambda e: LIST_ORDER.get(e.operation.split("/")[0], -1))
    return SubscriptionInventory(
        subscription, resources, tuple(items(ListName.HOSTING_ENVIRONMENTS)), tuple(ordered), network
    )
