"""Can the resource's own network carry TCP 25 (or 587) to the internet? The façade the engine asks: every way
out a resource has, each followed through NSGs, routes, hubs and firewalls to where it leaves.

A VM is one path per NIC IP configuration; the engine weighs them. A subnet's path is kept where it was decided
without the sender's address (or for every sender inside the subnet), so VMs alike share it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from auditor.classify.addresses import RELAY_PORT, SMTP_PORT, inside
from auditor.classify.network.firewall_path import FirewallPath
from auditor.classify.network.gateways import GatewayRoutes
from auditor.classify.network.index import NetworkIndex, vnet_of
from auditor.classify.network.outbound import outbound
from auditor.classify.network.path import (
    EVERY_DESTINATION,
    NOT_FOLLOWED,
    AllowingRule,
    ClosingPoint,
    HopKind,
    NetworkPath,
    Outcome,
    Reason,
    SharedPaths,
    Step,
    step,
    undetermined,
)
from auditor.classify.network.routes import internet_route
from auditor.classify.network.routing import Router, Traffic
from auditor.classify.network.sharing import Decisions, SenderScope
from auditor.model import (
    Egress,
    IpConfiguration,
    ListName,
    NetworkInterface,
    Resource,
    ResourceCategory,
    Subnet,
)

# A subnet's path is decided by all of these but the sender's address.
_SubnetKey = tuple[object, ...]


class Sharing(Enum):
    """With which senders a subnet's path is shared."""

    ANY_SENDER = "any sender"  # decided without the sender's address
    WITHIN_SUBNET = "within subnet"  # decided for every sender inside the subnet
    NONE = "none"  # decided for the sender's own address


def closing_point(interface: NetworkInterface | None, subnet: Subnet) -> ClosingPoint:
    """Where an outbound NSG rule would close a path through the subnet."""
    return ClosingPoint(interface.name if interface else "", subnet.name)


def _sender(subnet: Subnet, configuration: IpConfiguration | None) -> tuple[str, ...]:
    """Who sends through the subnet: the IP configuration's private address, else the whole subnet (an app's)."""
    if configuration and configuration.private_ip:
        return (configuration.private_ip,)
    return tuple(subnet.address_prefixes)


def _outbound_key(configuration: IpConfiguration | None) -> tuple[object, ...] | None:
    """What of the sender's IP configuration a subnet's path is decided on, but its address: its own ways out (a
    public IP, load balancer pools). Both path memos key on it."""
    if configuration is None:
        return None
    return (configuration.has_public_ip, configuration.public_ip_id, configuration.backend_pool_ids)


def _not_followed(*_: object) -> list[NetworkPath]:
    return [NOT_FOLLOWED]


def _in_flexible_scale_set(resource: Resource) -> bool:
    """A flexible scale set, or a VM of one: no default outbound access."""
    return resource.scale_set_id is not None or resource.flexible


class EgressEvaluator:
    def __init__(self, index: NetworkIndex) -> None:
        self._index = index
        self._decisions = Decisions(index.rules)
        self._firewalls = FirewallPath(index, self._decisions)
        self._router = Router(index, self._firewalls)
        self._gateways = GatewayRoutes(index, self._router)
        # A subnet's path, by everything it is decided on but the sender's address; kept only where the
        # evaluation never looked at the address, which is most VMs: then every VM of the subnet with the same
        # NIC NSG and outbound gets the same path.
        self._subnet_paths: dict[_SubnetKey, NetworkPath] = {}
        # kept for the senders inside the subnet: rules naming sources held the subnet whole or not at all
        self._within_subnet_paths: dict[_SubnetKey, NetworkPath] = {}
        # A one-way VM's two paths and its subnet's name, by what they were decided on, where neither path looked at
        # the sender's address: the next VM alike needs only this key (no subnet looked up, no path per port).
        self._any_sender_paths: dict[tuple[object, ...], tuple[NetworkPath, NetworkPath, str]] = {}

    def paths(self, resource: Resource, app_subnet_id: str | None = None, port: int = SMTP_PORT) -> list[NetworkPath]:
        """Every way out the resource has: one per IP configuration of each NIC (VMs, scale sets), else one."""
        return _WAYS_OUT[resource.category](self, resource, app_subnet_id, port)

    def follows(self, category: ResourceCategory) -> bool:
        """Whether the evaluator knows the ways out of a category (a registration every category needs)."""
        return category in _WAYS_OUT

    def _firewall_paths(self, firewall: Resource, _: str | None, port: int) -> list[NetworkPath]:
        return [self._firewalls.itself(firewall, port)]

    def _app_paths(self, resource: Resource, app_subnet_id: str | None, port: int) -> list[NetworkPath]:
        """An app sends from App Service's own addresses, unless its traffic is routed into a subnet."""
        if app_subnet_id is None:
            said = "The app sends from App Service's own outbound addresses"
            own = Step(HopKind.OUTBOUND, said, resource.resource_id)
            return [NetworkPath(Egress.DEFAULT_OUTBOUND, Outcome.OPEN, Reason.of(own))]
        return [self._through_subnet(app_subnet_id, None, None, port, is_app=True)]

    def _machine_paths(self, resource: Resource, _: str | None, port: int) -> list[NetworkPath]:
        """A VM's or scale set's ways out: one per IP configuration of each NIC, labelled when there are several."""
        flexible = _in_flexible_scale_set(resource)
        one_way = self._one_way(resource)
        if one_way is not None:
            only, configuration, subnet_id = one_way
            return [self._through_subnet(subnet_id, only, configuration, port, is_app=False, flexible_member=flexible)]
        interfaces = self._interfaces(resource)
        if isinstance(interfaces, NetworkPath):
            return [interfaces]
        found: list[tuple[str, str, NetworkPath]] = []
        for interface in interfaces:
            if isinstance(interface, NetworkPath):
                found.append(("", "", interface))
                continue
            configurations = sorted(interface.ip_configurations, key=lambda c: not c.primary)
            usable = [c for c in configurations if c.subnet_id]
            if not usable:
                said = step(f"NIC {interface.name} has no IP configuration in a subnet", interface.nic_id)
                found.append(("", "", undetermined(Reason.of(said))))
            for configuration in usable:
                label = f"NIC {interface.name}" + (f" ({configuration.name})" if configuration.name else "")
                path = self._through_subnet(
                    configuration.subnet_id or "",
                    interface,
                    configuration,
                    port,
                    is_app=False,
                    flexible_member=flexible,
                )
                found.append((label, interface.nic_id, path))
        if len(found) == 1:
            return [found[0][2]]
        return [
            NetworkPath(p.egress, p.outcome, p.reason.labelled(label, nic), p.firewall, p.via, p.where) if label else p
            for label, nic, p in found
        ]

    def _one_way(self, resource: Resource) -> tuple[NetworkInterface, IpConfiguration, str] | None:
        """Most VMs' one way out: their one NIC, its one IP configuration and that configuration's subnet id."""
        if len(resource.nic_ids) != 1 or resource.category is not ResourceCategory.VIRTUAL_MACHINE:
            return None
        only = self._index.interface(resource.nic_ids[0])
        if only is None or len(only.ip_configurations) != 1:
            return None
        (configuration,) = only.ip_configurations
        return (only, configuration, configuration.subnet_id) if configuration.subnet_id else None

    def shared_paths(self, resource: Resource) -> SharedPaths | None:
        """A VM's paths for TCP 25 and TCP 587 where every VM alike shares them: one way out, through a subnet whose
        paths were decided without the sender's address or for the whole subnet it lies in (most VMs). None where
        the resource's paths are its own."""
        one_way = self._one_way(resource)
        if one_way is None:
            return None
        interface, configuration, subnet_id = one_way
        flexible = _in_flexible_scale_set(resource)
        key = (subnet_id, interface.nsg_id, _outbound_key(configuration), flexible)
        known = self._any_sender_paths.get(key)
        if known is not None:
            smtp, relay, subnet_name = known
            return SharedPaths(smtp, relay, interface.name, subnet_name)
        subnet = self._index.subnet(subnet_id)
        if subnet is None:
            return None
        smtp, smtp_sharing = self._subnet_path(subnet, interface, configuration, SMTP_PORT, False, flexible)
        relay, relay_sharing = self._subnet_path(subnet, interface, configuration, RELAY_PORT, False, flexible)
        if smtp_sharing is Sharing.NONE or relay_sharing is Sharing.NONE:
            return None
        if smtp_sharing is relay_sharing is Sharing.ANY_SENDER:
            self._any_sender_paths[key] = (smtp, relay, subnet.name)
        return SharedPaths(smtp, relay, interface.name, subnet.name)

    def _interfaces(self, resource: Resource) -> list[NetworkInterface | NetworkPath] | NetworkPath:
        if resource.category is ResourceCategory.SCALE_SET:
            if not resource.nics:
                return undetermined(Reason.of(step("The scale set's model has no network interface configuration")))
            return [*sorted(resource.nics, key=lambda n: not n.primary)]
        if not resource.nic_ids:
            return undetermined(Reason.of(step("The VM lists no network interface")))
        found: list[NetworkInterface | NetworkPath] = []
        for nic_id in resource.nic_ids:
            interface = self._index.interface(nic_id)
            missing = self._index.missing("NIC", nic_id, ListName.NETWORK_INTERFACES)
            found.append(interface if interface is not None else undetermined(Reason.of(missing)))
        return found

    def _through_subnet(  # noqa: PLR0913 (the facts a subnet's path is decided on, its memo key)
        self,
        subnet_id: str,
        interface: NetworkInterface | None,
        configuration: IpConfiguration | None,
        port: int,
        *,
        is_app: bool,
        flexible_member: bool = False,
    ) -> NetworkPath:
        subnet = self._index.subnet(subnet_id)
        if subnet is None:
            path = undetermined(Reason.of(self._index.missing("Subnet", subnet_id, ListName.VIRTUAL_NETWORKS)))
            where = ClosingPoint(interface.name, "") if interface else None
        else:
            path, _ = self._subnet_path(subnet, interface, configuration, port, is_app, flexible_member)
            if port != SMTP_PORT:  # where to close a path is advice on TCP 25 only: the subnet's path as it is
                return path
            where = closing_point(interface, subnet)
        # not dataclasses.replace: this runs once a path of every resource, and replace costs four times as much
        return NetworkPath(path.egress, path.outcome, path.reason, path.firewall, path.via, where)

    def _subnet_path(  # noqa: PLR0913 (the facts a subnet's path is decided on, its memo key)
        self,
        subnet: Subnet,
        interface: NetworkInterface | None,
        configuration: IpConfiguration | None,
        port: int,
        is_app: bool,
        flexible_member: bool,
    ) -> tuple[NetworkPath, Sharing]:
        """The subnet's path, and with which senders it is shared."""
        key = (
            subnet.subnet_id,
            interface.nsg_id if interface else None,
            _outbound_key(configuration),
            port,
            is_app,
            flexible_member,
        )
        path = self._subnet_paths.get(key)
        if path is not None:
            return path, Sharing.ANY_SENDER
        prefixes = tuple(subnet.address_prefixes)
        path = self._within_subnet_paths.get(key)
        if path is not None and inside(prefixes, _sender(subnet, configuration)):
            return path, Sharing.WITHIN_SUBNET
        scope = SenderScope(prefixes)
        path = self._decided(subnet, interface, configuration, port, is_app, flexible_member, scope)
        if scope.source_read:
            return path, Sharing.NONE
        if scope.subnet_wide:
            self._within_subnet_paths[key] = path
            return path, Sharing.WITHIN_SUBNET
        self._subnet_paths[key] = path
        return path, Sharing.ANY_SENDER

    def _decided(  # noqa: PLR0913 (the facts a subnet's path is decided on, its memo key)
        self,
        subnet: Subnet,
        interface: NetworkInterface | None,
        configuration: IpConfiguration | None,
        port: int,
        is_app: bool,
        flexible_member: bool,
        scope: SenderScope,
    ) -> NetworkPath:
        """The subnet's path for this sender: the NIC's NSG, the subnet's NSG, then the route for the internet."""
        source = _sender(subnet, configuration)
        reason = Reason()
        for level, nsg_id in (("NIC", interface.nsg_id if interface else None), ("subnet", subnet.nsg_id)):
            if not nsg_id:
                continue
            nsg = self._index.security_groups.get(nsg_id.lower())
            if nsg is None:
                missing = self._index.missing(f"The {level}'s NSG", nsg_id, ListName.NETWORK_SECURITY_GROUPS)
                return undetermined(Reason.of(missing))
            asgs = frozenset(configuration.asg_ids) if configuration is not None else None
            decision = self._decisions.nsg(nsg, source, port, scope, asgs)
            allowing = (
                AllowingRule(nsg.name, decision.rule.name, decision.rule.priority)
                if decision.allowed and decision.rule is not None and not decision.rule.is_default
                else None
            )
            said = Step(HopKind.NSG, decision.said(nsg, level), nsg.nsg_id, allowing=allowing)
            reason, narrowing = reason.through(said, decision.destinations if decision.allowed else EVERY_DESTINATION)
            if decision.allowed is None or narrowing.unknowable:
                return undetermined(reason)
            if not decision.allowed or narrowing.nowhere:
                egress = outbound(self._index, subnet, configuration, is_app, flexible_member)[0]
                return NetworkPath(egress, Outcome.DENIED, reason)
        return self._routed(subnet, configuration, Traffic(vnet_of(subnet.subnet_id), source, port, reason, scope),
                            is_app, flexible_member)  # fmt: skip

    def _routed(
        self, subnet: Subnet, configuration: IpConfiguration | None, traffic: Traffic, is_app: bool, flexible: bool
    ) -> NetworkPath:
        """Where the subnet's route table (or its Virtual WAN hub) sends the internet traffic; else its outbound."""
        route = table = None
        if subnet.route_table_id:
            table = self._index.route_tables.get(subnet.route_table_id.lower())
            if table is None:
                missing = self._index.missing("Route table", subnet.route_table_id, ListName.ROUTE_TABLES)
                return undetermined(traffic.reason.then(missing))
            route = internet_route(table.routes)
        if route is None:
            # no user-defined route for the internet: a Virtual WAN hub may propagate its default route
            through_hub = self._router.hub_route(traffic)
            if through_hub is not None:
                return _deciding_as(through_hub, HopKind.VIRTUAL_HUB, "")
            # or a VPN or ExpressRoute gateway one it learned from on-premises
            learned = self._gateways.path(subnet, table, traffic)
            if isinstance(learned, NetworkPath):
                return learned
            if learned is not None:
                traffic = traffic._replace(reason=traffic.reason.then(learned))
        elif route.next_hop_type.lower() != "internet" and table is not None:
            path = self._router.route_path(route, table.name, traffic)
            return _deciding_as(path, HopKind.ROUTE, table.route_table_id)
        egress, said = outbound(self._index, subnet, configuration, is_app, flexible)
        if egress is Egress.UNKNOWN:
            return undetermined(traffic.reason.then(said))
        outcome = Outcome.DENIED if egress is Egress.NONE else Outcome.OPEN
        return NetworkPath(egress, outcome, traffic.reason.then(said))


def _deciding_as(path: NetworkPath, kind: HopKind, object_id: str) -> NetworkPath:
    reason = path.reason.deciding_as(kind, object_id)
    if reason is path.reason:
        return path
    return NetworkPath(path.egress, path.outcome, reason, path.firewall, path.via, path.where)


# Which ways out each category has (`tests/test_registration.py` checks every category has one): a category whose
# network is not followed (other PaaS) is decided by its rule alone. The evaluator's functions, not its bound
# methods: an evaluator keeping its own bound methods would be a reference cycle, freed only by the garbage
# collector's next full pass, and the inventory it indexes with it.
_WAYS_OUT: dict[ResourceCategory, Callable[[EgressEvaluator, Resource, str | None, int], list[NetworkPath]]] = {
    ResourceCategory.VIRTUAL_MACHINE: EgressEvaluator._machine_paths,
    ResourceCategory.SCALE_SET: EgressEvaluator._machine_paths,
    ResourceCategory.APP_SERVICE: EgressEvaluator._app_paths,
    ResourceCategory.FIREWALL: EgressEvaluator._firewall_paths,
    ResourceCategory.CONTAINER_APP: _not_followed,
    ResourceCategory.CONTAINER_INSTANCE: _not_followed,
}
