"""ARM network payloads (NICs, NSGs, routes, subnets, NAT gateways, load balancers, public IPs) → our model types.

A payload is an SDK model or a Resource Graph row: both are read as mappings of the REST names, so a field an
API version leaves out reads as absent.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from auditor.model import (
    FirewallNetworking,
    FirewallPolicy,
    GatewayPeering,
    HubConnection,
    HubRoute,
    HubRouteTable,
    IpConfiguration,
    IpGroup,
    LoadBalancer,
    NatGateway,
    NetworkInterface,
    NetworkRule,
    NetworkRuleCollection,
    NetworkSecurityGroup,
    PublicIpAddress,
    Route,
    RouteTable,
    RuleCollectionGroup,
    SecurityRule,
    Subnet,
    VirtualHub,
    VirtualNetwork,
)


class MalformedItem(ValueError):
    """A list item that cannot be understood: not an object, without a text id or type, or with a field whose
    shape Azure does not give it (a priority that is not a whole number, rules that are not a list)."""


def one_copy(text: str) -> str:
    """The one copy of a text that many objects of an inventory repeat: each NIC's subnet id, a VM's NIC id and the
    NIC's own, every resource's location and group, tags. Each answer's parser makes its own copy; at a million
    VMs the copies were about 0.8 GB of a real scan's inventory (measured on a replayed landing zone: 65% of the
    inventory's text)."""
    return sys.intern(text)


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, Iterable) and not isinstance(value, (str, Mapping)) else []


def _id(value: Any) -> str | None:
    identifier = _map(value).get("id")
    return one_copy(str(identifier)) if identifier else None


def _strings(*values: Any) -> tuple[str, ...]:
    """Single and plural forms of one field (`destinationPortRange` / `destinationPortRanges`) as one tuple."""
    found: list[str] = []
    for value in values:
        if isinstance(value, str) and value:
            found.append(value)
        else:
            found.extend(str(v) for v in _list(value) if v)
    return tuple(found)


def field(raw: Any, name: str) -> str:
    """A top-level text field of an ARM payload (an SDK model or a Resource Graph row); "" when absent."""
    value = _map(raw).get(name)
    return "" if value is None else str(value)


def properties_of(raw: Any) -> Mapping[str, Any]:
    return _map(_map(raw).get("properties"))


def _ip_configuration(raw: Any, *, scale_set: bool) -> IpConfiguration:
    properties = properties_of(raw)
    public_ip_id = _id(properties.get("publicIPAddress"))
    return IpConfiguration(
        name=one_copy(str(_map(raw).get("name") or "")),
        primary=bool(properties.get("primary")),
        subnet_id=_id(properties.get("subnet")),
        private_ip=properties.get("privateIPAddress") or None,
        public_ip_id=public_ip_id,
        has_public_ip=_scale_set_public_ipv4(properties) if scale_set else public_ip_id is not None,
        backend_pool_ids=tuple(
            pool for pool in (_id(p) for p in _list(properties.get("loadBalancerBackendAddressPools"))) if pool
        ),
        asg_ids=_lower_ids(properties.get("applicationSecurityGroups")),
    )


def _lower_ids(value: Any) -> tuple[str, ...]:
    return tuple(one_copy(identifier.lower()) for identifier in (_id(item) for item in _list(value)) if identifier)


def _scale_set_public_ipv4(properties: Mapping[str, Any]) -> bool:
    """A scale set's IP configuration gives each instance a public IPv4 address (an IPv6 one is no IPv4 way out)."""
    configuration = _map(properties.get("publicIPAddressConfiguration"))
    version = str(properties_of(configuration).get("publicIPAddressVersion") or "IPv4").lower()
    return bool(configuration) and version != "ipv6"


def network_interface(raw: Any) -> NetworkInterface:
    properties = properties_of(raw)
    return NetworkInterface(
        nic_id=one_copy(field(raw, "id")),  # the VM that has it names it too
        name=field(raw, "name"),
        primary=bool(properties.get("primary")),
        nsg_id=_id(properties.get("networkSecurityGroup")),
        ip_configurations=tuple(
            _ip_configuration(c, scale_set=False) for c in _list(properties.get("ipConfigurations"))
        ),
    )


def scale_set_interfaces(scale_set_id: str, properties: Any) -> tuple[NetworkInterface, ...]:
    """The NIC configurations of a scale set's VM model (its instances' NICs are not in the NIC list)."""
    profile = _map(_map(_map(properties).get("virtualMachineProfile")).get("networkProfile"))
    interfaces = []
    for configuration in _list(profile.get("networkInterfaceConfigurations")):
        settings = properties_of(configuration)
        name = str(_map(configuration).get("name") or "")
        interfaces.append(
            NetworkInterface(
                nic_id=f"{scale_set_id}/networkInterfaceConfigurations/{name}",
                name=name,
                primary=bool(settings.get("primary")),
                nsg_id=_id(settings.get("networkSecurityGroup")),
                ip_configurations=tuple(
                    _ip_configuration(c, scale_set=True) for c in _list(settings.get("ipConfigurations"))
                ),
            )
        )
    return tuple(interfaces)


def vm_interface_ids(properties: Any) -> tuple[str, ...]:
    """The VM's NIC ids, the primary one first (it carries the default route's traffic)."""
    references = _list(_map(_map(properties).get("networkProfile")).get("networkInterfaces"))
    ordered = sorted(references, key=lambda r: not properties_of(r).get("primary", len(references) == 1))
    return tuple(nic for nic in (_id(r) for r in ordered) if nic)


def firewall_networking(properties: Any) -> FirewallNetworking:
    settings = _map(properties)
    configurations = [properties_of(c) for c in _list(settings.get("ipConfigurations"))]
    hub = _map(settings.get("hubIPAddresses"))
    private_ips = [c.get("privateIPAddress") for c in configurations] + [hub.get("privateIPAddress")]
    hub_public = _list(_map(hub.get("publicIPs")).get("addresses"))
    subnets = [s for s in (_id(c.get("subnet")) for c in configurations) if s]
    classic, unreadable = _classic_collections(settings.get("networkRuleCollections"))
    return FirewallNetworking(
        private_ips=tuple(str(ip) for ip in private_ips if ip),
        has_public_ip=any(_id(c.get("publicIPAddress")) for c in configurations) or bool(hub_public),
        subnet_id=subnets[0] if subnets else None,
        hub_id=_id(settings.get("virtualHub")),
        policy_id=_id(settings.get("firewallPolicy")),
        classic_collections=classic,
        # Forced tunnelling is not read from managementIpConfiguration (the Basic SKU always has one, and Standard
        # and Premium use it for packet capture too): it is a default route on AzureFirewallSubnet
        deallocated=isinstance(settings.get("ipConfigurations"), list)
        and not settings.get("ipConfigurations")
        and not _id(settings.get("virtualHub")),
        rules_unreadable=unreadable,
        snat_private_ranges=_classic_private_ranges(settings),
    )


def _classic_collections(value: Any) -> tuple[tuple[NetworkRuleCollection, ...], str]:
    """A classic firewall's network rule collections, or what in them could not be read (the firewall is kept,
    its decision unknown)."""
    try:
        return tuple(
            _rule_collection(c.get("name"), properties_of(c), _objects(properties_of(c).get("rules"), "its rules"))
            for c in _objects(value, "networkRuleCollections")
        ), ""
    except MalformedItem as err:
        return (), str(err)


def _network_rule(raw: Any) -> NetworkRule:
    rule = _map(raw)
    return NetworkRule(
        name=str(rule.get("name") or ""),
        # classic rules say `protocols`, policy rules `ipProtocols`
        protocols=_strings(rule.get("ipProtocols"), rule.get("protocols")),
        source_addresses=_strings(rule.get("sourceAddresses")),
        source_ip_groups=_strings(rule.get("sourceIpGroups")),
        destination_addresses=_strings(rule.get("destinationAddresses")),
        destination_ip_groups=_strings(rule.get("destinationIpGroups")),
        destination_fqdns=_strings(rule.get("destinationFqdns")),
        destination_ports=_strings(rule.get("destinationPorts")),
    )


def priority(value: Any, what: str) -> int:
    """A rule's, collection's or group's priority: a whole number, as Azure gives it (a number written as text,
    a fraction, infinity or NaN is not one)."""
    whole = not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
    if not whole or value != int(value):
        raise MalformedItem(f"{what} has a priority that is not a whole number ({value!r:.40})")
    return int(value)


def _objects(value: Any, what: str) -> list[Mapping[str, Any]]:
    """A list of objects, as Azure gives rules and collections; anything else is malformed."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise MalformedItem(f"{what} is not a list of objects")
    return value


def _texts(rule: Mapping[str, Any], name: str, what: str) -> None:
    value = rule.get(name)
    if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
        raise MalformedItem(f"{what}'s {name} is not a list of text")


NETWORK_RULE_LISTS = (
    "ipProtocols", "protocols", "sourceAddresses", "sourceIpGroups", "destinationAddresses", "destinationIpGroups",
    "destinationFqdns", "destinationPorts",
)  # fmt: skip


def _rule_collection(name: Any, settings: Mapping[str, Any], rules: list[Mapping[str, Any]]) -> NetworkRuleCollection:
    what = f"collection {str(name or '')!r:.80}"
    for rule in rules:
        for field_name in NETWORK_RULE_LISTS:
            _texts(rule, field_name, f"{what}, rule {str(rule.get('name') or '')!r:.80}")
    return NetworkRuleCollection(
        name=str(name or ""),
        priority=priority(settings.get("priority"), what),
        action=str(_map(settings.get("action")).get("type") or ""),
        rules=tuple(_network_rule(r) for r in rules),
    )


# The rule collection types of a firewall policy: filter collections hold network (and application) rules, NAT
# collections translate inbound traffic.
FILTER_COLLECTION, NAT_COLLECTION = "FirewallPolicyFilterRuleCollection", "FirewallPolicyNatRuleCollection"


def rule_collection_group(raw: Any) -> RuleCollectionGroup:
    """A policy's rule collection group, keeping its filter collections' network rules (NAT collections are
    inbound DNAT; application rules carry HTTP/S and MSSQL only). A group whose shape is not Azure's (collections
    that are not a list of objects, a collection without its type, rules without theirs, a priority that is not a
    whole number) is malformed: what cannot be read is never read as no rules."""
    properties = _map(raw).get("properties")
    if not isinstance(properties, Mapping):
        raise MalformedItem("a rule collection group without its properties")
    collections = []
    for collection in _objects(properties.get("ruleCollections"), "its ruleCollections"):
        kind = collection.get("ruleCollectionType")
        what = f"collection {str(collection.get('name') or '')!r:.80}"
        if kind not in (FILTER_COLLECTION, NAT_COLLECTION):
            raise MalformedItem(f"{what} has a ruleCollectionType Azure does not document ({kind!r:.60})")
        rules = _objects(collection.get("rules"), f"{what}'s rules")
        for rule in rules:
            if not isinstance(rule.get("ruleType"), str):
                raise MalformedItem(f"{what} has a rule without its ruleType")
        if kind != FILTER_COLLECTION:
            priority(collection.get("priority"), what)
            continue
        network = [r for r in rules if r.get("ruleType") == "NetworkRule"]
        built = _rule_collection(collection.get("name"), collection, network)
        if network:
            collections.append(built)
    return RuleCollectionGroup(
        group_id=field(raw, "id"),
        name=field(raw, "name"),
        priority=priority(properties.get("priority"), "the group"),
        collections=tuple(collections),
    )


def firewall_policy(raw: Any) -> FirewallPolicy:
    """A firewall policy; its rule collection groups are a list of their own, read after it."""
    properties = properties_of(raw)
    ranges = _map(properties.get("snat")).get("privateRanges")
    return FirewallPolicy(
        policy_id=field(raw, "id"),
        name=field(raw, "name"),
        base_policy_id=_id(properties.get("basePolicy")),
        snat_private_ranges=_strings(ranges) if ranges is not None else None,
    )


def _classic_private_ranges(settings: Mapping[str, Any]) -> tuple[str, ...] | None:
    """A classic firewall's SNAT private ranges: additionalProperties["Network.SNAT.PrivateRanges"], comma-separated."""
    value = _map(settings.get("additionalProperties")).get("Network.SNAT.PrivateRanges")
    if not isinstance(value, str):
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


def ip_group(raw: Any) -> IpGroup:
    return IpGroup(field(raw, "id"), field(raw, "name"), _strings(properties_of(raw).get("ipAddresses")))


def virtual_hub(raw: Any) -> VirtualHub:
    """A Virtual WAN hub; its connections, routing intent and route tables are lists of their own, read after it."""
    return VirtualHub(hub_id=field(raw, "id"), name=field(raw, "name"))


def hub_connection(raw: Any) -> HubConnection:
    properties = properties_of(raw)
    routing = _map(properties.get("routingConfiguration"))
    return HubConnection(
        connection_id=field(raw, "id"),
        name=field(raw, "name"),
        remote_vnet_id=_id(properties.get("remoteVirtualNetwork")),
        internet_security=properties.get("enableInternetSecurity") is True,
        route_table_id=_id(routing.get("associatedRouteTable")),
    )


def internet_next_hop(raw: Any) -> str | None:
    """A routing intent's next hop for internet traffic (its `InternetTraffic` policy), if it has one."""
    for policy in _list(properties_of(raw).get("routingPolicies")):
        settings = _map(policy)
        if "internet" in {str(d).lower() for d in _list(settings.get("destinations"))}:
            return str(settings.get("nextHop") or "") or None
    return None


def hub_route_table(raw: Any) -> HubRouteTable:
    routes = []
    for route in _list(properties_of(raw).get("routes")):
        settings = _map(route)
        routes.append(
            HubRoute(
                name=str(settings.get("name") or ""),
                destinations=_strings(settings.get("destinations")),
                next_hop=str(settings.get("nextHop") or ""),
            )
        )
    return HubRouteTable(field(raw, "id"), field(raw, "name"), tuple(routes))


def _security_rule(raw: Any, *, default: bool) -> SecurityRule:
    properties = properties_of(raw)
    return SecurityRule(
        name=str(_map(raw).get("name") or ""),
        priority=priority(properties.get("priority"), f"rule {str(_map(raw).get('name') or '')!r:.80}"),
        direction=str(properties.get("direction") or ""),
        access=str(properties.get("access") or ""),
        protocol=str(properties.get("protocol") or ""),
        source_prefixes=_strings(properties.get("sourceAddressPrefix"), properties.get("sourceAddressPrefixes")),
        destination_prefixes=_strings(
            properties.get("destinationAddressPrefix"), properties.get("destinationAddressPrefixes")
        ),
        destination_ports=_strings(properties.get("destinationPortRange"), properties.get("destinationPortRanges")),
        source_ports=_strings(properties.get("sourcePortRange"), properties.get("sourcePortRanges")) or ("*",),
        source_asgs=bool(_list(properties.get("sourceApplicationSecurityGroups"))),
        source_asg_ids=_lower_ids(properties.get("sourceApplicationSecurityGroups")),
        destination_asgs=bool(_list(properties.get("destinationApplicationSecurityGroups"))),
        is_default=default,
    )


def security_group(raw: Any) -> NetworkSecurityGroup:
    properties = properties_of(raw)
    rules = [_security_rule(r, default=False) for r in _list(properties.get("securityRules"))]
    rules += [_security_rule(r, default=True) for r in _list(properties.get("defaultSecurityRules"))]
    return NetworkSecurityGroup(nsg_id=field(raw, "id"), name=field(raw, "name"), rules=tuple(rules))


def route_table(raw: Any) -> RouteTable:
    routes = []
    for route in _list(properties_of(raw).get("routes")):
        properties = properties_of(route)
        routes.append(
            Route(
                name=field(route, "name"),
                address_prefix=str(properties.get("addressPrefix") or ""),
                next_hop_type=str(properties.get("nextHopType") or ""),
                next_hop_ip=properties.get("nextHopIpAddress") or None,
            )
        )
    disabled = properties_of(raw).get("disableBgpRoutePropagation")
    return RouteTable(
        route_table_id=field(raw, "id"),
        name=field(raw, "name"),
        routes=tuple(routes),
        gateway_routes=disabled is not True,  # absent or false: propagated (Azure's default)
    )


def subnets(raw: Any) -> list[Subnet]:
    """The subnets of a virtual network, as the VNet list returns them."""
    found = []
    for subnet in _list(properties_of(raw).get("subnets")):
        properties = properties_of(subnet)
        access = properties.get("defaultOutboundAccess")
        found.append(
            Subnet(
                subnet_id=field(subnet, "id"),
                name=field(subnet, "name"),
                address_prefixes=_strings(properties.get("addressPrefix"), properties.get("addressPrefixes")),
                nsg_id=_id(properties.get("networkSecurityGroup")),
                route_table_id=_id(properties.get("routeTable")),
                nat_gateway_id=_id(properties.get("natGateway")),
                default_outbound_access=access if isinstance(access, bool) else None,
            )
        )
    return found


def virtual_network(raw: Any) -> tuple[VirtualNetwork, list[Subnet]]:
    """A VNet with the VNets it is peered with (Connected peerings only), and its subnets."""
    properties = properties_of(raw)
    peered: list[str] = []
    unconnected: list[str] = []
    remote_gateways: list[GatewayPeering] = []
    for peering in _list(properties.get("virtualNetworkPeerings")):
        settings = properties_of(peering)
        state = str(settings.get("peeringState") or "Connected")  # a payload without a state: the more exposure
        remote = _id(settings.get("remoteVirtualNetwork"))
        if remote:
            connected = state.lower() == "connected"
            (peered if connected else unconnected).append(remote)
            if connected and settings.get("useRemoteGateways") is True:
                remote_gateways.append(GatewayPeering(str(_map(peering).get("name") or ""), remote))
    network = VirtualNetwork(
        vnet_id=field(raw, "id"),
        name=field(raw, "name"),
        address_prefixes=_strings(_map(properties.get("addressSpace")).get("addressPrefixes")),
        peered_vnet_ids=tuple(peered),
        unconnected_vnet_ids=tuple(unconnected),
        gateway_ids=_gateways(properties),
        remote_gateways=tuple(remote_gateways),
    )
    return network, subnets(raw)


_GATEWAY_CONFIGURATION = re.compile(r"(.*/providers/microsoft\.network/virtualnetworkgateways/[^/]+)/", re.IGNORECASE)


def _gateways(properties: Mapping[str, Any]) -> tuple[str, ...]:
    """The virtual network gateways whose IP configurations are in the VNet's GatewaySubnet (the subnet lists
    them under `ipConfigurations`)."""
    found: list[str] = []
    for subnet in _list(properties.get("subnets")):
        if str(_map(subnet).get("name") or "").lower() != "gatewaysubnet":
            continue
        for configuration in _list(properties_of(subnet).get("ipConfigurations")):
            match = _GATEWAY_CONFIGURATION.match(str(_map(configuration).get("id") or ""))
            if match:
                found.append(match.group(1))
    return tuple(dict.fromkeys(found))


def load_balancer(raw: Any) -> LoadBalancer:
    properties = properties_of(raw)
    public_frontends = {
        (_map(f).get("id") or "").lower()
        for f in _list(properties.get("frontendIPConfigurations"))
        if _id(properties_of(f).get("publicIPAddress")) or _id(properties_of(f).get("publicIPPrefix"))
    }
    outbound: list[str] = []
    for rule in _list(properties.get("outboundRules")):
        settings = properties_of(rule)
        pool = _id(settings.get("backendAddressPool"))
        # Load Balancer, "Outbound rules": an outbound rule SNATs the protocol it names (TCP, UDP or All); a UDP
        # rule gives TCP 25 no way out. A rule that names none is taken as All (the reading with more exposure).
        if pool and str(settings.get("protocol") or "All").lower() in ("tcp", "all"):
            outbound.append(pool)
    for rule in _list(properties.get("loadBalancingRules")):
        settings = properties_of(rule)
        frontend = (_id(settings.get("frontendIPConfiguration")) or "").lower()
        if frontend in public_frontends and not settings.get("disableOutboundSnat"):
            pools = [_id(settings.get("backendAddressPool"))] + [
                _id(p) for p in _list(settings.get("backendAddressPools"))
            ]
            outbound.extend(p for p in pools if p)
    return LoadBalancer(
        load_balancer_id=field(raw, "id"),
        name=field(raw, "name"),
        outbound_pool_ids=tuple(dict.fromkeys(outbound)),
        backend_pool_ids=tuple(p for p in (_id(x) for x in _list(properties.get("backendAddressPools"))) if p),
    )


def public_ip(raw: Any) -> PublicIpAddress:
    properties = properties_of(raw)
    ipv6 = str(properties.get("publicIPAddressVersion") or "").lower() == "ipv6"
    return PublicIpAddress(field(raw, "id"), field(raw, "name"), properties.get("ipAddress") or None, ipv6)


def nat_gateway(raw: Any) -> NatGateway:
    return NatGateway(field(raw, "id"), field(raw, "name"))
