"""Where a subnet's internet traffic goes: its route table's route for the internet, one resolver per next-hop
type, and a Virtual WAN hub's routing for a connected VNet.

A route to an address is looked up in the sender's own network (its VNet, the VNets peered with it, its Virtual
WAN hub), never tenant-wide.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from auditor.classify.addresses import inside
from auditor.classify.listing import capped
from auditor.classify.network.firewall_path import FirewallPath
from auditor.classify.network.index import NetworkIndex, vnet_of
from auditor.classify.network.path import HopKind, NetworkPath, Outcome, Reason, Step, step, undetermined
from auditor.classify.network.sharing import SenderScope
from auditor.model import Egress, HubConnection, ListName, Resource, Route, VirtualHub, name_of

# What a Virtual WAN hub's next hop can be besides an Azure Firewall, by the type its resource id names.
_HUB_NEXT_HOPS = {
    "microsoft.network/networkvirtualappliances": "network virtual appliance {name} in the hub",
    "microsoft.network/virtualhubs/hubvirtualnetworkconnections": "hub connection {name} (an appliance in the VNet it "
    "connects)",
}
_APPLIANCE_DECIDES = "whether the appliance lets TCP 25 out decides, and port25-audit cannot see past it"


class Traffic(NamedTuple):
    """The traffic being followed: from which VNet and sender, to which port, what it met so far."""

    vnet_id: str
    source: tuple[str, ...]
    port: int
    reason: Reason
    scope: SenderScope


def not_a_firewall(next_hop: str) -> str:
    """A hub next hop named for what it is, when its id is not an Azure Firewall's ("" when it may be one)."""
    provider = re.search(r"/providers/([^/]+/[^/]+)(?:/[^/]+/([^/]+))?", next_hop, re.IGNORECASE)
    if provider is None:
        return f"{next_hop}, which is not a resource id" if next_hop else ""
    name = next_hop.rstrip("/").rsplit("/", 1)[-1]
    kind = provider.group(1).lower() + (f"/{provider.group(2).lower()}" if provider.group(2) else "")
    if kind.startswith("microsoft.network/azurefirewalls"):
        return ""
    for known, said in _HUB_NEXT_HOPS.items():
        if kind == known:
            return said.format(name=name)
    return f"{next_hop}, a {provider.group(1)} resource, not an Azure Firewall"


class Router:
    """Follows a route, or a hub, to where the traffic leaves."""

    def __init__(self, index: NetworkIndex, firewalls: FirewallPath) -> None:
        self._index = index
        self._firewalls = firewalls

    def route_path(self, route: Route, table_name: str, traffic: Traffic) -> NetworkPath:
        said = f"Route {route.name} in route table {table_name} sends {route.address_prefix} to {route.next_hop_type}"
        return self.followed(said, route, traffic)

    def followed(self, said: str, route: Route, traffic: Traffic) -> NetworkPath:
        """Where the route (`said`: what sends the traffic to its next hop) takes the traffic."""
        kind = route.next_hop_type.lower()
        if kind == "virtualappliance":
            return self._to_appliance(said, route, traffic)
        resolve = _RESOLVERS.get(kind)
        if resolve is None:
            return undetermined(traffic.reason.then(step(f"{said}, a next hop port25-audit does not know")))
        return resolve(said, route, traffic)

    def _to_appliance(self, said: str, route: Route, traffic: Traffic) -> NetworkPath:
        address = route.next_hop_ip or ""
        said = f"{said} {address}"
        firewalls, elsewhere = self._firewalls_at(address, traffic.vnet_id)
        if not firewalls:
            firewalls = self._deallocated_at(address, traffic.vnet_id)
        if len(firewalls) == 1:
            return self._reached(firewalls[0], f"{said},", traffic)
        where = f"VNet {traffic.vnet_id.rsplit('/', 1)[-1]}, its peers or its Virtual WAN hub"
        if len(firewalls) > 1:
            # by id: firewalls of one address may share a name
            names = ", ".join(capped([f.resource_id for f in firewalls], "firewalls"))
            text = f"{said}, the address of more than one Azure Firewall reachable from {where}: {names}"
            return undetermined(traffic.reason.then(step(text)))
        appliances = [
            nic
            for vnet in self._index.reachable_vnets(traffic.vnet_id)
            for nic in self._index.interfaces_at(vnet, address)
        ]
        if appliances:
            text = f"{said}, network appliance NIC {name_of(appliances[0])}: {_APPLIANCE_DECIDES}"
            return NetworkPath(
                Egress.APPLIANCE, Outcome.UNDETERMINED, traffic.reason.then(step(text)), via=appliances[0]
            )
        other = (
            f"; Azure Firewall {', '.join(name_of(e) for e in elsewhere)} has that address in a network the "
            "sender's does not reach"
            if elsewhere
            else ""
        )
        text = f"{said}, which is not the address of an Azure Firewall or NIC known in {where}{other}: "
        return _appliance(traffic, text + _APPLIANCE_DECIDES, address)

    def _reached(self, firewall: Resource, said: str, traffic: Traffic) -> NetworkPath:
        """The traffic reaches an Azure Firewall (`said`: how, up to its name): through its rules."""
        subscription = self._index.subscription_name(firewall.subscription_id)
        text = f"{said} Azure Firewall {firewall.name} (subscription {subscription})"
        reached = Step(HopKind.FIREWALL, text, firewall.resource_id)
        return self._firewalls.through(
            firewall, traffic.source, traffic.port, traffic.reason.then(reached), traffic.scope
        )

    def _deallocated_at(self, address: str, vnet_id: str) -> list[Resource]:
        """A deallocated firewall has no IP configuration left to name its address: the address is its when it lies
        in the AzureFirewallSubnet (one firewall a VNet) of a reachable VNet, and a deallocated firewall stands in
        that VNet's resource group."""
        found = []
        for vnet in self._index.reachable_vnets(vnet_id):
            subnet = self._index.subnet(f"{vnet}/subnets/azurefirewallsubnet")
            if subnet is None or not inside(tuple(subnet.address_prefixes), (address,)):
                continue
            group = vnet.split("/providers/", 1)[0]
            found += [
                firewall
                for firewall in self._index.firewalls.values()
                if firewall.firewall is not None
                and firewall.firewall.deallocated
                and firewall.resource_id.lower().startswith(group + "/providers/")
            ]
        return found

    def _firewalls_at(self, address: str, vnet_id: str) -> tuple[list[Resource], list[str]]:
        """Azure Firewalls with this private address in the sender's network, and those elsewhere (by id)."""
        reachable = set(self._index.reachable_vnets(vnet_id))
        hubs = {hub.hub_id.lower() for hub, _ in self._index.hub_connections.get(vnet_id, [])}
        here: list[Resource] = []
        elsewhere: list[str] = []
        for firewall in self._index.firewalls.values():
            networking = firewall.firewall
            if networking is None or address not in networking.private_ips:
                continue
            in_network = (networking.subnet_id is not None and vnet_of(networking.subnet_id) in reachable) or (
                networking.hub_id is not None and networking.hub_id.lower() in hubs
            )
            if in_network:
                here.append(firewall)
            else:
                elsewhere.append(firewall.resource_id)
        return here, elsewhere

    def hub_route(self, traffic: Traffic) -> NetworkPath | None:
        """Where a Virtual WAN hub sends the VNet's internet traffic, if it is connected with internet security to
        a hub that sends it somewhere; None when no hub takes it (it leaves from the VNet itself)."""
        vnet_id = traffic.vnet_id
        for hub, connection in self._index.hub_connections.get(vnet_id, []):
            if not connection.internet_security:
                continue
            said = (
                f"VNet {vnet_id.rsplit('/', 1)[-1]} is connected to Virtual WAN hub {hub.name} with internet security"
            )
            if not hub.routing_intent_read:
                return undetermined(traffic.reason.then(step(f"{said}, whose routing intent could not be read")))
            next_hop, how = hub.internet_next_hop, "its routing intent sends internet traffic to"
            if next_hop is None:
                if hub.route_tables is None:
                    return undetermined(traffic.reason.then(step(f"{said}, whose route tables could not be read")))
                found = _default_route(hub, connection)
                if found is None:
                    continue
                next_hop, how = found
            return self._hub_next_hop(next_hop, f"{said}; {how}", traffic)
        return self._unread_hub(traffic)

    def _hub_next_hop(self, next_hop: str, said: str, traffic: Traffic) -> NetworkPath:
        firewall = self._index.firewalls.get(next_hop.lower())
        if firewall is not None:
            return self._reached(firewall, said, traffic)
        appliance = not_a_firewall(next_hop)
        if appliance:
            return _appliance(traffic, f"{said} {appliance}: {_APPLIANCE_DECIDES}", next_hop)
        missing = self._index.missing("Azure Firewall", next_hop, ListName.AZURE_FIREWALLS)
        return undetermined(traffic.reason.then(step(f"{said} {next_hop}"), missing))

    def _unread_hub(self, traffic: Traffic) -> NetworkPath | None:
        """A connection to a hub shows on the spoke as a peering with the hub's own VNet, which no list returns."""
        vnet_id = traffic.vnet_id
        unseen_peers = [p for p in self._index.vnets.get(vnet_id, ()) if p not in self._index.collected_vnets]
        if not (self._index.unread_hubs and unseen_peers):
            return None
        names = ", ".join(capped([h.hub_id for h in self._index.unread_hubs], "hubs"))
        text = (
            f"VNet {vnet_id.rsplit('/', 1)[-1]} is peered with {unseen_peers[0]}, which may be a "
            f"Virtual WAN hub whose connections could not be read ({names})"
        )
        return undetermined(traffic.reason.then(step(text)))


def _default_route(hub: VirtualHub, connection: HubConnection) -> tuple[str, str] | None:
    """The next hop of the hub route table the connection is associated with, for 0.0.0.0/0, and how it is said."""
    table_id = (connection.route_table_id or f"{hub.hub_id}/hubRouteTables/defaultRouteTable").lower()
    table = next((t for t in hub.route_tables or () if t.route_table_id.lower() == table_id), None)
    routes = table.routes if table else ()
    route = next((r for r in routes if "0.0.0.0/0" in {d.strip() for d in r.destinations}), None)
    if route is None:
        return None
    return route.next_hop, f"its route table {table.name if table else ''} sends 0.0.0.0/0 to"


def _appliance(traffic: Traffic, text: str, via: str) -> NetworkPath:
    return NetworkPath(Egress.APPLIANCE, Outcome.UNDETERMINED, traffic.reason.then(step(text)), via=via)


def _dropped(said: str, route: Route, traffic: Traffic) -> NetworkPath:
    return NetworkPath(Egress.NONE, Outcome.DENIED, traffic.reason.then(step(said + ": the traffic is dropped")))


def _to_gateway(said: str, route: Route, traffic: Traffic) -> NetworkPath:
    text = f"{said} (forced tunnelling): the traffic leaves for on-premises, not Azure's internet edge"
    return NetworkPath(Egress.ON_PREMISES, Outcome.UNDETERMINED, traffic.reason.then(step(text)))


# The other next-hop types a route can name (Azure's `nextHopType`, lower case), which need no router: kept apart
# from the router, as a router keeping its own bound method would be a reference cycle (see evaluator._WAYS_OUT).
_RESOLVERS: dict[str, Callable[[str, Route, Traffic], NetworkPath]] = {
    "none": _dropped,
    "vnetlocal": _dropped,
    "virtualnetworkgateway": _to_gateway,
}
