"""Every network object of the tenant, by lower-case id: built once per scan, read-only afterwards."""

from __future__ import annotations

from auditor.classify.network.firewall_rules import FirewallRules
from auditor.classify.network.path import HopKind, MissingFact, Step, Unread
from auditor.model import (
    FirewallPolicy,
    HubConnection,
    IpGroup,
    NetworkInterface,
    NetworkSecurityGroup,
    PublicIpAddress,
    Resource,
    RouteTable,
    Subnet,
    SubnetRoutes,
    SubscriptionInventory,
    TenantInventory,
    VirtualHub,
    VirtualNetwork,
    list_unread,
    name_of,
    subscription_of,
)


def vnet_of(subnet_id: str) -> str:
    """The VNet id of a subnet id (lower case)."""
    head, _, _ = subnet_id.lower().rpartition("/subnets/")
    return head


class Uncollected:
    """Why an object a path needs was not collected: its subscription was not audited, or the list it is in could
    not be read there, or it is not in that list. Apart from the index, which the firewall rules it holds ask this:
    an index handing them its own bound method would be a reference cycle (see evaluator._WAYS_OUT)."""

    def __init__(self, subscriptions: tuple[SubscriptionInventory, ...]) -> None:
        # the operations that failed in each audited subscription
        self._failed = {item.subscription.subscription_id: {e.operation for e in item.errors} for item in subscriptions}
        audited = [item.subscription for item in subscriptions]
        self._names = {subscription.subscription_id.lower(): subscription.display_name for subscription in audited}

    def subscription_name(self, subscription_id: str) -> str:
        """The subscription's display name, as the reports name it; its id where it was not audited."""
        return self._names.get(subscription_id.lower()) or subscription_id

    def step(self, what: str, object_id: str, operation: str) -> Step:
        """The step that says an object the path needs was not collected, and why."""
        subscription = subscription_of(object_id) or ""
        named = self.subscription_name(subscription)
        if subscription not in self._failed:
            unread, why = Unread.NOT_AUDITED, f"its subscription {subscription} is not among the audited subscriptions"
        elif list_unread(self._failed[subscription], operation):
            unread, why = Unread.LIST_UNREAD, f"the {operation} list of subscription {named} could not be read"
        else:
            unread, why = Unread.NOT_LISTED, f"it is not in the {operation} list of subscription {named}"
        fact = MissingFact(operation, subscription, unread, named if named != subscription else "")
        return Step(HopKind.MISSING, f"{what} {name_of(object_id)} was not collected: {why}", object_id, fact)


class NetworkIndex:
    """Every network object of the tenant by lower-case id, which lists failed where, and the firewall rule sets.

    Built once per scan; read-only afterwards.
    """

    def __init__(self, inventory: TenantInventory) -> None:
        # NICs by id as Azure spelt it: a million NICs need no lower-case copies of their ids (see `interface`)
        self._interfaces: dict[str, NetworkInterface] = {}
        self._interfaces_by_lower_id: dict[str, NetworkInterface] | None = None
        self.security_groups: dict[str, NetworkSecurityGroup] = {}
        self.route_tables: dict[str, RouteTable] = {}
        self.subnets: dict[str, Subnet] = {}
        self._subnets_as_spelt: dict[str, Subnet] = {}  # a million NICs name a few subnets, mostly as spelt here
        self.outbound_pools: dict[str, str] = {}
        self.backend_pools: set[str] = set()
        self.public_ips: dict[str, PublicIpAddress] = {}
        self.firewalls: dict[str, Resource] = {}
        self.vnets: dict[str, tuple[str, ...]] = {}  # VNet id -> the VNets peered with it (either side says so)
        self.hub_connections: dict[str, list[tuple[VirtualHub, HubConnection]]] = {}
        self.unread_hubs: list[VirtualHub] = []
        self._interface_addresses: dict[tuple[str, str], list[str]] | None = None  # see `interfaces_at`
        self._inventory = inventory
        self._uncollected = Uncollected(inventory.subscriptions)
        self._unconnected: set[tuple[str, str]] = set()  # (VNet, VNet) whose peering one side says is not Connected
        self.collected_vnets: set[str] = set()
        self.networks: dict[str, VirtualNetwork] = {}  # by lower-case id
        self.effective_routes: dict[str, SubnetRoutes] = {}  # by the subnet's lower-case id (--effective-routes)
        peers: dict[str, set[str]] = {}
        policies: dict[str, FirewallPolicy] = {}
        ip_groups: dict[str, IpGroup] = {}
        for item in inventory.subscriptions:
            network = item.network
            self._interfaces.update((n.nic_id, n) for n in network.interfaces)
            self.security_groups.update((g.nsg_id.lower(), g) for g in network.security_groups)
            self.route_tables.update((t.route_table_id.lower(), t) for t in network.route_tables)
            self.subnets.update((s.subnet_id.lower(), s) for s in network.subnets)
            self._subnets_as_spelt.update((s.subnet_id, s) for s in network.subnets)
            self.public_ips.update((p.public_ip_id.lower(), p) for p in network.public_ips)
            policies.update((p.policy_id.lower(), p) for p in network.firewall_policies)
            ip_groups.update((g.ip_group_id.lower(), g) for g in network.ip_groups)
            for balancer in network.load_balancers:
                self.outbound_pools.update((p.lower(), balancer.name) for p in balancer.outbound_pool_ids)
                self.backend_pools.update(p.lower() for p in balancer.backend_pool_ids)
            self._add_peerings(network.virtual_networks, peers)
            self.networks.update((v.vnet_id.lower(), v) for v in network.virtual_networks)
            self.effective_routes.update((r.subnet_id.lower(), r) for r in network.effective_routes)
            self._add_hubs(network.virtual_hubs)
            for resource in item.resources:
                if resource.firewall is not None:
                    self.firewalls[resource.resource_id.lower()] = resource
        # Virtual network peering: traffic crosses a peering only when it is Connected; a side that says Initiated
        # or Disconnected is the word on the pair, whatever the other side says
        for own, remote in self._unconnected:
            peers.get(own, set()).discard(remote)
            peers.get(remote, set()).discard(own)
        self.vnets = {vnet: tuple(sorted(remotes)) for vnet, remotes in peers.items()}
        self.firewall_policies = policies
        self.rules = FirewallRules(policies, ip_groups, self._uncollected.step)

    def _add_peerings(self, networks: tuple[VirtualNetwork, ...], peers: dict[str, set[str]]) -> None:
        """Either side of a peering says it: each VNet is peered with the VNets it names and those naming it."""
        for vnet in networks:
            own = vnet.vnet_id.lower()
            self.collected_vnets.add(own)
            peers.setdefault(own, set())
            for remote in vnet.peered_vnet_ids:
                peers[own].add(remote.lower())
                peers.setdefault(remote.lower(), set()).add(own)
            self._unconnected.update((own, remote.lower()) for remote in vnet.unconnected_vnet_ids)

    def _add_hubs(self, hubs: tuple[VirtualHub, ...]) -> None:
        for hub in hubs:
            if hub.connections is None:
                self.unread_hubs.append(hub)
            for connection in hub.connections or ():
                if connection.remote_vnet_id:
                    self.hub_connections.setdefault(connection.remote_vnet_id.lower(), []).append((hub, connection))

    def interface(self, nic_id: str) -> NetworkInterface | None:
        """The NIC with this id, in any case (ARM ids are case-insensitive); the lower-case index is built only
        when an id is not found as it is spelt."""
        found = self._interfaces.get(nic_id)
        if found is None:
            if self._interfaces_by_lower_id is None:
                self._interfaces_by_lower_id = {key.lower(): nic for key, nic in self._interfaces.items()}
            found = self._interfaces_by_lower_id.get(nic_id.lower())
        return found

    def subnet(self, subnet_id: str) -> Subnet | None:
        """The subnet with this id, in any case."""
        found = self._subnets_as_spelt.get(subnet_id)
        return found if found is not None else self.subnets.get(subnet_id.lower())

    def interfaces_at(self, vnet_id: str, address: str) -> list[str]:
        """The NICs (ids) with this private address in this VNet (lower-case id); indexed on first use, which only
        a route to a virtual appliance makes."""
        if self._interface_addresses is None:
            self._interface_addresses = {}
            for item in self._inventory.subscriptions:
                for interface in item.network.interfaces:
                    for configuration in interface.ip_configurations:
                        if configuration.subnet_id and configuration.private_ip:
                            key = (vnet_of(configuration.subnet_id), configuration.private_ip)
                            self._interface_addresses.setdefault(key, []).append(interface.nic_id)
        return self._interface_addresses.get((vnet_id, address), [])

    def subscription_name(self, subscription_id: str) -> str:
        """The subscription's display name, as the reports name it; its id where it was not audited."""
        return self._uncollected.subscription_name(subscription_id)

    def missing(self, what: str, object_id: str, operation: str) -> Step:
        """The step that says an object the path needs was not collected, and why."""
        return self._uncollected.step(what, object_id, operation)

    def reachable_vnets(self, vnet_id: str) -> tuple[str, ...]:
        """The sender's VNet and the VNets peered with it."""
        return (vnet_id, *self.vnets.get(vnet_id, ()))
