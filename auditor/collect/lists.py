"""The lists a subscription is read from, and how each one's items become our model types.

Both sources read the same lists: ARM mode with one list call per subscription, Resource Graph mode with one
query over many subscriptions. Either way an item is an ARM payload read as a mapping of REST names (an SDK
model or a Graph row), so one converter per list serves both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.collect import network as net
from auditor.model import (
    AppNetworking,
    AppServiceEnvironment,
    CollectionError,
    NetworkInventory,
    Resource,
    ResourceCategory,
    Subscription,
    SubscriptionInventory,
)

_RESOURCE_GROUP = re.compile(r"/resourceGroups/([^/]+)", re.IGNORECASE)


def resource_group_of(resource_id: str) -> str:
    match = _RESOURCE_GROUP.search(resource_id)
    return match.group(1) if match else ""


def region_name(location: str) -> str:
    """A region's programmatic name ("westeurope"): App Service lists give display names ("West Europe"),
    Resource Graph gives the short form."""
    return location.lower().replace(" ", "")


@dataclass(frozen=True)
class ListKind:
    """One list of a subscription: its operation name, ARM resource type, and conversion of an item."""

    operation: str
    resource_type: str
    convert: Callable[[Any, str], Any]

    @property
    def path(self) -> str:
        """The list's path under `/subscriptions/{id}/`."""
        return f"providers/{self.resource_type}"


def _resource(raw: Any, subscription_id: str, category: ResourceCategory, resource_type: str) -> Resource:
    """An audited resource. The type is the list's own (Resource Graph lower-cases types; ARM does not)."""
    resource_id = net.field(raw, "id")
    properties = net.properties_of(raw)
    return Resource(
        resource_id=resource_id,
        name=net.field(raw, "name"),
        resource_type=resource_type,
        kind=net.field(raw, "kind"),
        location=region_name(net.field(raw, "location")),
        resource_group=resource_group_of(resource_id),
        subscription_id=subscription_id,
        category=category,
        app=_app_networking(properties) if category is ResourceCategory.APP_SERVICE else None,
        nic_ids=net.vm_interface_ids(properties) if category is ResourceCategory.VIRTUAL_MACHINE else (),
        nics=net.scale_set_interfaces(resource_id, properties) if category is ResourceCategory.SCALE_SET else (),
        firewall=net.firewall_networking(properties) if category is ResourceCategory.FIREWALL else None,
    )


def _environment(raw: Any) -> AppServiceEnvironment:
    network = net.properties_of(raw).get("virtualNetwork")
    return AppServiceEnvironment(
        environment_id=net.field(raw, "id"),
        name=net.field(raw, "name"),
        kind=net.field(raw, "kind"),
        subnet_id=(network.get("id") if isinstance(network, Mapping) else None) or None,
    )


def routes_app_traffic(site_properties: Any) -> bool | None:
    """Whether the app's own outbound traffic is routed into its integration VNet; None when the site does not say.

    Current API versions: `outboundVnetRouting.applicationTraffic` / `.allTraffic`.
    Older ones: `vnetRouteAllEnabled` on the site or on its `siteConfig`.
    """
    if not isinstance(site_properties, Mapping):
        return None
    routing = site_properties.get("outboundVnetRouting")
    legacy = [
        site_properties.get("vnetRouteAllEnabled"),
        (site_properties.get("siteConfig") or {}).get("vnetRouteAllEnabled"),
    ]
    flags = [routing.get("applicationTraffic"), routing.get("allTraffic")] if isinstance(routing, Mapping) else []
    if any(flag is True for flag in flags + legacy):
        return True
    if any(flag is False for flag in flags + legacy):
        return False
    return None


def _app_networking(properties: Mapping[str, Any]) -> AppNetworking:
    profile = properties.get("hostingEnvironmentProfile")
    return AppNetworking(
        subnet_id=properties.get("virtualNetworkSubnetId") or None,
        routes_app_traffic=routes_app_traffic(properties),
        environment_id=(profile.get("id") if isinstance(profile, Mapping) else None) or None,
    )


def needs_site_config(site: Resource) -> bool:
    """An integrated app whose site payload does not say how it routes: older sites say so only in `config/web`."""
    app = site.app
    return app is not None and bool(app.subnet_id) and app.routes_app_traffic is None


def _audited(category: ResourceCategory, resource_type: str) -> ListKind:
    operation = resource_type.split("/")[1]
    return ListKind(operation, resource_type, lambda raw, sub: _resource(raw, sub, category, resource_type))


def _network(resource_type: str, convert: Callable[[Any], Any]) -> ListKind:
    return ListKind(resource_type.split("/")[1], resource_type, lambda raw, sub: convert(raw))


KINDS: tuple[ListKind, ...] = (
    _audited(ResourceCategory.VIRTUAL_MACHINE, "Microsoft.Compute/virtualMachines"),
    _audited(ResourceCategory.SCALE_SET, "Microsoft.Compute/virtualMachineScaleSets"),
    _audited(ResourceCategory.APP_SERVICE, "Microsoft.Web/sites"),
    _network("Microsoft.Web/hostingEnvironments", _environment),
    _audited(ResourceCategory.FIREWALL, "Microsoft.Network/azureFirewalls"),
    _network("Microsoft.Network/networkInterfaces", net.network_interface),
    _network("Microsoft.Network/publicIPAddresses", net.public_ip),
    _network("Microsoft.Network/networkSecurityGroups", net.security_group),
    _network("Microsoft.Network/routeTables", net.route_table),
    _network("Microsoft.Network/virtualNetworks", lambda raw: tuple(net.subnets(raw))),
    _network("Microsoft.Network/natGateways", net.nat_gateway),
    _network("Microsoft.Network/loadBalancers", net.load_balancer),
)

RESOURCE_LISTS = ("virtualMachines", "virtualMachineScaleSets", "sites", "azureFirewalls")
LIST_ORDER = {kind.operation: index for index, kind in enumerate(KINDS)}


def inventory(
    subscription: Subscription, found: Mapping[str, Sequence[Any]], errors: Sequence[CollectionError]
) -> SubscriptionInventory:
    """A subscription's inventory from its converted lists (by operation); errors in list order.

    Resources are ordered by list, then id, so reports come out in the same order whichever source read them.
    """

    def items(operation: str) -> Sequence[Any]:
        return found.get(operation, ())

    network = NetworkInventory(
        interfaces=tuple(items("networkInterfaces")),
        public_ips=tuple(items("publicIPAddresses")),
        security_groups=tuple(items("networkSecurityGroups")),
        route_tables=tuple(items("routeTables")),
        subnets=tuple(s for subnets in items("virtualNetworks") for s in subnets),
        nat_gateways=tuple(items("natGateways")),
        load_balancers=tuple(items("loadBalancers")),
    )
    resources = tuple(
        r for operation in RESOURCE_LISTS for r in sorted(items(operation), key=lambda r: r.resource_id.lower())
    )
    ordered = sorted(errors, key=lambda e: LIST_ORDER.get(e.operation.split("/")[0], -1))
    return SubscriptionInventory(subscription, resources, tuple(items("hostingEnvironments")), tuple(ordered), network)
