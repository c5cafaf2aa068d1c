"""Can the resource's own network carry TCP 25 (or 587) to the internet? NSGs, routes, firewalls, the outbound path.

The question asked of every rule is about TCP to an arbitrary public internet address. Rules whose destination
covers only part of public space (a service tag other than Internet, a prefix list that does not cover it) do
not decide it; the reason names them. Rules whose match cannot be known (application security groups) make the
result uncertain when they disagree with the rule that decides, and the verdict is then `unknown`.

Where a route sends the traffic to an address, the address is looked up in the sender's own network: its VNet,
the VNets peered with it, and the Virtual WAN hub it is connected to, never tenant-wide. A VM is one path per
NIC IP configuration; the engine weighs them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from ipaddress import IPv4Network
from itertools import groupby
from typing import NamedTuple, TypeVar

from auditor.classify.addresses import (
    RELAY_PORT,
    SMTP_PORT,
    Match,
    covered,
    inside,
    networks,
    parsed_prefixes,
    port_matches,
    public_coverage,
)
from auditor.classify.firewall import FirewallDecision, FirewallRules
from auditor.classify.listing import capped
from auditor.model import (
    Egress,
    FirewallPolicy,
    HubConnection,
    IpConfiguration,
    IpGroup,
    ListName,
    NetworkInterface,
    NetworkSecurityGroup,
    PathHop,
    Resource,
    ResourceCategory,
    Route,
    RouteTable,
    SecurityRule,
    Subnet,
    TenantInventory,
    VirtualHub,
    list_unread,
    subscription_of,
)

__all__ = ["RELAY_PORT", "SMTP_PORT", "EgressEvaluator", "NetworkIndex", "NetworkPath", "Outcome", "evaluate_nsg"]

INTERNET_WORDS = frozenset({"*", "any", "internet", "0.0.0.0/0"})
ANY_SOURCE_WORDS = frozenset({"*", "any", "virtualnetwork"})
DEFAULT_OUTBOUND_RULES = (
    SecurityRule(
        "AllowVnetOutBound",
        65000,
        "Outbound",
        "Allow",
        "*",
        ("VirtualNetwork",),
        ("VirtualNetwork",),
        ("*",),
        is_default=True,
    ),
    SecurityRule(
        "AllowInternetOutBound", 65001, "Outbound", "Allow", "*", ("*",), ("Internet",), ("*",), is_default=True
    ),
    SecurityRule("DenyAllOutBound", 65500, "Outbound", "Deny", "*", ("*",), ("*",), ("*",), is_default=True),
)


def destination_match(rule: SecurityRule) -> Match:
    """Does the rule's destination contain an arbitrary public internet address?"""
    if rule.destination_asgs:
        return Match.NO  # application security groups hold NICs, not internet addresses
    words = {p.strip().lower() for p in rule.destination_prefixes}
    if words & INTERNET_WORDS:
        return Match.YES
    if networks(rule.destination_prefixes) is None:
        tags = {p for p in rule.destination_prefixes if networks([p]) is None}
        return Match.NO if {t.lower() for t in tags} <= {"virtualnetwork", "azureloadbalancer"} else Match.PARTIAL
    return public_coverage(rule.destination_prefixes)


def source_match(rule: SecurityRule, sender: Sequence[IPv4Network] | None) -> Match:
    """Does the rule's source contain the resource (its private address, or its whole subnet, parsed)?"""
    if rule.source_asgs:
        return Match.UNCERTAIN
    if {p.strip().lower() for p in rule.source_prefixes} & ANY_SOURCE_WORDS:
        return Match.YES
    return covered(parsed_prefixes(tuple(rule.source_prefixes)), sender)


def fixed_match(rule: SecurityRule, port: int = SMTP_PORT) -> Match:
    """What of a rule does not depend on the sender: direction, protocol, port and destination."""
    if rule.direction.lower() != "outbound" or rule.protocol.lower() not in ("tcp", "*", "any"):
        return Match.NO
    if not port_matches(rule.destination_ports, port):
        return Match.NO
    return destination_match(rule)


def rule_match(fixed: Match, rule: SecurityRule, sender: Sequence[IPv4Network] | None) -> Match:
    """A rule's match for a sender, given its `fixed_match`."""
    if fixed is Match.NO:
        return Match.NO
    origin = source_match(rule, sender)
    if origin is Match.NO:
        return Match.NO
    return min(fixed, origin, key=lambda m: m.value)


# An NSG's outbound rules that can match on one port, by priority, each with its fixed match: sorted and matched
# once per NSG and port.
CompiledNsg = tuple[tuple[int, tuple[tuple[SecurityRule, Match], ...]], ...]


def compile_nsg(nsg: NetworkSecurityGroup, port: int = SMTP_PORT) -> CompiledNsg:
    """Outbound rules in priority order, defaults included (and supplied if the data lacks them)."""
    rules = [r for r in nsg.rules if r.direction.lower() == "outbound"]
    if not any(r.is_default for r in rules):
        rules += DEFAULT_OUTBOUND_RULES
    matched = [(rule, fixed) for rule in rules if (fixed := fixed_match(rule, port)) is not Match.NO]
    # a rule that cannot match whatever the sender (another port, protocol, destination) is left out: it neither
    # decides nor ties
    return tuple(
        (priority, tuple(group))
        for priority, group in groupby(sorted(matched, key=lambda m: m[0].priority), key=lambda m: m[0].priority)
    )


@dataclass(frozen=True)
class NsgDecision:
    allowed: bool | None  # None: cannot be known
    rule: SecurityRule | None
    notes: tuple[str, ...] = ()

    port: int = SMTP_PORT

    def describe(self, nsg: NetworkSecurityGroup) -> str:
        if self.rule is None:
            return f"NSG {nsg.name}: " + "; ".join(capped(self.notes, "rules that cover only some destinations"))
        verb = "allows" if self.allowed else "denies"
        kind = "default rule" if self.rule.is_default else "rule"
        return (
            f"NSG {nsg.name} {kind} {self.rule.name} (priority {self.rule.priority}) {verb} TCP {self.port} "
            "to the internet"
        )


def same_for_every_sender_in(compiled: CompiledNsg, prefixes: Sequence[str]) -> bool:
    """Whether every sender in these prefixes (a subnet's) gets the same decision: each rule that names source
    prefixes holds them whole or none of them (an application security group's rule is uncertain for all)."""
    subnet = networks(prefixes)
    return not any(
        not rule.source_asgs and source_match(rule, subnet) is Match.UNCERTAIN
        for _, group in compiled
        for rule, _ in group
    )


def _label(rule: SecurityRule) -> str:
    return f"{rule.name} (priority {rule.priority}, {rule.access})"


def evaluate_nsg(nsg: NetworkSecurityGroup, source: Sequence[str], port: int = SMTP_PORT) -> NsgDecision:
    """Outbound rules in priority order, first match wins; defaults included (and supplied if the data lacks them)."""
    return decide_nsg(compile_nsg(nsg, port), source, port)


def decide_nsg(compiled: CompiledNsg, source: Sequence[str], port: int = SMTP_PORT) -> NsgDecision:
    """A compiled NSG's decision for a sender: first match wins."""
    notes: list[str] = []
    pending: list[SecurityRule] = []
    sender = networks(source)  # parsed once for every rule
    for priority, group in compiled:
        tied = [rule for rule, _ in group]
        matches = {rule.name: rule_match(fixed, rule, sender) for rule, fixed in group}
        certain = [r for r in tied if matches[r.name] is Match.YES]
        for rule in tied:
            if matches[rule.name] is Match.PARTIAL:
                notes.append(
                    f"rule {_label(rule)} covers only some public destinations "
                    f"({', '.join(capped(rule.destination_prefixes, 'prefixes'))}): not counted for the internet at "
                    "large"
                )
        pending += [r for r in tied if matches[r.name] is Match.UNCERTAIN]
        if not certain:
            continue
        accesses = {r.access.strip().lower() for r in certain}
        if not accesses <= {"allow", "deny"}:
            odd = [r for r in certain if r.access.strip().lower() not in ("allow", "deny")]
            return NsgDecision(
                None,
                None,
                (f"rule {_label(odd[0])} has an access value Azure does not document (Allow or Deny)", *notes),
                port,
            )
        if len(accesses) > 1:
            return NsgDecision(
                None,
                None,
                (
                    f"rules {', '.join(capped([_label(r) for r in certain], 'rules'))} share priority {priority} and "
                    "disagree (Azure does not allow two rules of one priority)",
                    *notes,
                ),
                port,
            )
        allowed = accesses == {"allow"}
        doubtful = [r for r in pending if (r.access.lower() == "allow") != allowed]
        if doubtful:
            return NsgDecision(
                None,
                None,
                (
                    f"rule(s) {', '.join(capped([_label(r) for r in doubtful], 'rules'))} may apply (application "
                    f"security group or a source that only partly covers the resource) before {_label(certain[0])}",
                    *notes,
                ),
                port,
            )
        return NsgDecision(allowed, certain[0], tuple(notes), port)
    return NsgDecision(None, None, ("no outbound rule matched", *notes), port)


def internet_route(routes: Sequence[Route]) -> Route | None:
    """The user-defined route that takes an arbitrary internet address: 0.0.0.0/0, or /1 halves both pointing alike."""
    by_prefix = {r.address_prefix.strip(): r for r in routes}
    default = by_prefix.get("0.0.0.0/0")
    halves = by_prefix.get("0.0.0.0/1"), by_prefix.get("128.0.0.0/1")
    if (
        halves[0]
        and halves[1]
        and (halves[0].next_hop_type, halves[0].next_hop_ip) == (halves[1].next_hop_type, halves[1].next_hop_ip)
    ):
        return halves[0]
    return default


class Outcome(StrEnum):
    OPEN = "open"  # the network lets the traffic out directly
    DENIED = "denied"  # an NSG, a route, a firewall's rules or the lack of a path stops it
    VIA_FIREWALL = "via_firewall"  # an Azure Firewall's rules let it out: the firewall's platform policy decides
    UNDETERMINED = "undetermined"  # an appliance, on-premises, or facts that could not be read


@dataclass(frozen=True)
class NetworkPath:
    """One way out: how the traffic leaves, whether it gets out, why; and the firewall or appliance it leaves
    through (`firewall` is set when an Azure Firewall's platform policy applies to it)."""

    egress: Egress
    outcome: Outcome
    reason: str
    firewall: Resource | None = None
    via: str = ""
    where: str = ""  # where an outbound NSG rule would close the path: the NIC, or the subnet


# Other PaaS (Container Apps, Container Instances): the platform rule decides, whatever their network does.
NOT_FOLLOWED = NetworkPath(Egress.UNKNOWN, Outcome.UNDETERMINED, "")


_Decision = TypeVar("_Decision", NsgDecision, FirewallDecision)


class SharedPaths(NamedTuple):
    """A VM's ways out for TCP 25 and TCP 587, shared with every VM alike; and where to close TCP 25, its own."""

    smtp: NetworkPath
    relay: NetworkPath
    closing_point: str


def closing_point(interface: NetworkInterface | None, subnet: Subnet) -> str:
    """Where an outbound NSG rule would close a path through the subnet."""
    return f"NIC {interface.name} or subnet {subnet.name}" if interface else f"subnet {subnet.name}"


def _undetermined(reason: str, **extra: object) -> NetworkPath:
    return NetworkPath(Egress.UNKNOWN, Outcome.UNDETERMINED, reason, **extra)  # type: ignore[arg-type]


def _sender(subnet: Subnet, configuration: IpConfiguration | None) -> tuple[str, ...]:
    """Who sends through the subnet: the IP configuration's private address, else the whole subnet (an app's)."""
    if configuration and configuration.private_ip:
        return (configuration.private_ip,)
    return tuple(subnet.address_prefixes)


def _in_flexible_scale_set(resource: Resource) -> bool:
    """A flexible scale set, or a VM of one: no default outbound access."""
    return resource.scale_set_id is not None or resource.flexible


# What a Virtual WAN hub's next hop can be besides an Azure Firewall, by the type its resource id names.
_HUB_NEXT_HOPS = {
    "microsoft.network/networkvirtualappliances": "network virtual appliance {name} in the hub",
    "microsoft.network/virtualhubs/hubvirtualnetworkconnections": "hub connection {name} (an appliance in the VNet it "
    "connects)",
}


def _not_a_firewall(next_hop: str) -> str:
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


def vnet_of(subnet_id: str) -> str:
    """The VNet id of a subnet id (lower case)."""
    head, _, _ = subnet_id.lower().rpartition("/subnets/")
    return head


class Hop(str):
    """A step of the way out, as the sentence the reason says, knowing what it is and the id it names."""

    kind: str
    object_id: str

    def __new__(cls, text: str, kind: str = "step", object_id: str = "") -> Hop:
        hop = super().__new__(cls, text)
        hop.kind, hop.object_id = kind, object_id
        return hop


class Reason(str):
    """A network reason: its sentences, and the steps they come from."""

    hops: tuple[PathHop, ...]

    def __new__(cls, text: str, hops: tuple[PathHop, ...]) -> Reason:
        reason = super().__new__(cls, text)
        reason.hops = hops
        return reason


def _hop(part: str) -> PathHop:
    return PathHop(getattr(part, "kind", "step"), getattr(part, "object_id", ""), str(part))


def _sentence(parts: Sequence[str]) -> Reason:
    kept = [p for p in parts if p]
    return Reason(". ".join(kept) + ".", tuple(_hop(p) for p in kept))


def _last_step_is(path: NetworkPath, kind: str, object_id: str) -> NetworkPath:
    """The path with its deciding step named for what it is, where it was a plain step (a route, a hub)."""
    hops = hops_of(path.reason)
    if not hops or hops[-1].kind != "step":
        return path
    named = PathHop(kind, object_id, hops[-1].says)
    return replace(path, reason=Reason(path.reason, (*hops[:-1], named)))


def hops_of(reason: str) -> tuple[PathHop, ...]:
    """The steps of a network reason (one plain step when it was not built from steps)."""
    if isinstance(reason, Reason):
        return reason.hops
    return (PathHop("step", "", reason),) if reason else ()


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
        self.public_ips: dict[str, str | None] = {}
        self.firewalls: dict[str, Resource] = {}
        self.vnets: dict[str, tuple[str, ...]] = {}  # VNet id -> the VNets peered with it (either side says so)
        self.hub_connections: dict[str, list[tuple[VirtualHub, HubConnection]]] = {}
        self.unread_hubs: list[VirtualHub] = []
        self._interface_addresses: dict[tuple[str, str], list[str]] | None = None  # see `interfaces_at`
        self._inventory = inventory
        self.failed: dict[str, set[str]] = {}
        self.collected_vnets: set[str] = set()
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
            self.public_ips.update((p.public_ip_id.lower(), p.ip_address) for p in network.public_ips)
            policies.update((p.policy_id.lower(), p) for p in network.firewall_policies)
            ip_groups.update((g.ip_group_id.lower(), g) for g in network.ip_groups)
            for balancer in network.load_balancers:
                self.outbound_pools.update((p.lower(), balancer.name) for p in balancer.outbound_pool_ids)
                self.backend_pools.update(p.lower() for p in balancer.backend_pool_ids)
            for vnet in network.virtual_networks:
                own = vnet.vnet_id.lower()
                self.collected_vnets.add(own)
                peers.setdefault(own, set())
                for remote in vnet.peered_vnet_ids:
                    peers[own].add(remote.lower())
                    peers.setdefault(remote.lower(), set()).add(own)
            for hub in network.virtual_hubs:
                if hub.connections is None:
                    self.unread_hubs.append(hub)
                for connection in hub.connections or ():
                    if connection.remote_vnet_id:
                        self.hub_connections.setdefault(connection.remote_vnet_id.lower(), []).append((hub, connection))
            for resource in item.resources:
                if resource.firewall is not None:
                    self.firewalls[resource.resource_id.lower()] = resource
            self.failed[item.subscription.subscription_id] = {e.operation for e in item.errors}
        self.vnets = {vnet: tuple(sorted(remotes)) for vnet, remotes in peers.items()}
        self.rules = FirewallRules(policies, ip_groups, self.missing)

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

    def missing(self, what: str, object_id: str, operation: str) -> Hop:
        subscription = subscription_of(object_id) or ""
        if subscription not in self.failed:
            why = f"its subscription {subscription} is not among the audited subscriptions"
        elif list_unread(self.failed[subscription], operation):
            why = f"the {operation} list of subscription {subscription} could not be read"
        else:
            why = f"it is not in the {operation} list of subscription {subscription}"
        return Hop(f"{what} {object_id} was not collected: {why}", "missing", object_id)

    def reachable_vnets(self, vnet_id: str) -> tuple[str, ...]:
        """The sender's VNet and the VNets peered with it."""
        return (vnet_id, *self.vnets.get(vnet_id, ()))


class EgressEvaluator:
    def __init__(self, index: NetworkIndex) -> None:
        self._index = index
        self._nsg_decisions: dict[tuple[str, int], NsgDecision] = {}
        self._compiled_nsgs: dict[tuple[str, int], CompiledNsg] = {}
        self._source_dependent: dict[str, bool] = {}
        self._firewall_by_sender: dict[tuple[str, int], bool] = {}
        self._firewall_decisions: dict[tuple[str, int], FirewallDecision] = {}
        # A subnet's path, by everything it is decided on but the sender's address; kept only where the
        # evaluation never looked at the address (no source-dependent NSG rule, no firewall rules), which is
        # most VMs: then every VM of the subnet with the same NIC NSG and outbound gets the same path.
        self._subnet_paths: dict[tuple[object, ...], NetworkPath] = {}
        self._source_read = False
        # NSG and hub firewall rules that name sources usually hold a subnet whole or not at all: then one
        # decision serves every sender in the subnet, and the subnet's path is kept for the senders inside it.
        self._within_subnet_paths: dict[tuple[object, ...], NetworkPath] = {}
        self._sender_subnet: tuple[str, ...] = ()  # the prefixes of the subnet whose path is being decided
        self._subnet_wide = False  # whether that path took a decision for every sender in the subnet
        self._same_in_subnet: dict[tuple[str, int, tuple[str, ...]], bool] = {}
        self._firewall_subnet_decisions: dict[tuple[str, int, tuple[str, ...]], FirewallDecision] = {}
        self._nsg_subnet_decisions: dict[tuple[str, int, tuple[str, ...]], NsgDecision] = {}

    def paths(self, resource: Resource, app_subnet_id: str | None = None, port: int = SMTP_PORT) -> list[NetworkPath]:
        """Every way out the resource has: one per IP configuration of each NIC (VMs, scale sets), else one."""
        if resource.category is ResourceCategory.FIREWALL:
            return [self._firewall_itself(resource, port)]
        if resource.category is ResourceCategory.APP_SERVICE:
            if app_subnet_id is None:
                return [
                    NetworkPath(
                        Egress.DEFAULT_OUTBOUND,
                        Outcome.OPEN,
                        "The app sends from App Service's own outbound addresses.",
                    )
                ]
            return [self._through_subnet(app_subnet_id, None, None, port, is_app=True)]
        if resource.category not in (ResourceCategory.VIRTUAL_MACHINE, ResourceCategory.SCALE_SET):
            return [NOT_FOLLOWED]
        flexible_member = _in_flexible_scale_set(resource)
        one_way = self._one_way(resource)
        if one_way is not None:
            only, configuration, subnet_id = one_way
            return [
                self._through_subnet(
                    subnet_id, only, configuration, port, is_app=False, flexible_member=flexible_member
                )
            ]
        interfaces = self._interfaces(resource)
        if isinstance(interfaces, NetworkPath):
            return [interfaces]
        found: list[tuple[str, NetworkPath]] = []
        for interface in interfaces:
            if isinstance(interface, NetworkPath):
                found.append(("", interface))
                continue
            configurations = sorted(interface.ip_configurations, key=lambda c: not c.primary)
            usable = [c for c in configurations if c.subnet_id]
            if not usable:
                found.append(("", _undetermined(f"NIC {interface.name} has no IP configuration in a subnet.")))
            for configuration in usable:
                label = f"NIC {interface.name}" + (f" ({configuration.name})" if configuration.name else "")
                path = self._through_subnet(
                    configuration.subnet_id or "",
                    interface,
                    configuration,
                    port,
                    is_app=False,
                    flexible_member=flexible_member,
                )
                found.append((label, path))
        if len(found) == 1:
            return [found[0][1]]
        return [
            replace(
                path,
                reason=Reason(f"{label}: {path.reason}", (PathHop("nic", "", label), *hops_of(path.reason)))
                if label
                else path.reason,
            )
            for label, path in found
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
        subnet = self._index.subnet(subnet_id)
        if subnet is None:
            return None
        flexible_member = _in_flexible_scale_set(resource)
        smtp, smtp_shared = self._subnet_path(
            subnet, interface, configuration, SMTP_PORT, is_app=False, flexible_member=flexible_member
        )
        relay, relay_shared = self._subnet_path(
            subnet, interface, configuration, RELAY_PORT, is_app=False, flexible_member=flexible_member
        )
        if not (smtp_shared and relay_shared):
            return None
        return SharedPaths(smtp, relay, closing_point(interface, subnet))

    def _interfaces(self, resource: Resource) -> list[NetworkInterface | NetworkPath] | NetworkPath:
        if resource.category is ResourceCategory.SCALE_SET:
            if not resource.nics:
                return _undetermined("The scale set's model has no network interface configuration.")
            return [*sorted(resource.nics, key=lambda n: not n.primary)]
        if not resource.nic_ids:
            return _undetermined("The VM lists no network interface.")
        found: list[NetworkInterface | NetworkPath] = []
        for nic_id in resource.nic_ids:
            interface = self._index.interface(nic_id)
            found.append(
                interface
                if interface is not None
                else _undetermined(_sentence([self._index.missing("NIC", nic_id, ListName.NETWORK_INTERFACES)]))
            )
        return found

    def _nsg(self, nsg: NetworkSecurityGroup, source: Sequence[str], port: int) -> NsgDecision:
        """The NSG's decision: its rules sorted and matched once per NSG and port; decided once when none of its
        outbound rules looks at the source (the common case: `*`, `VirtualNetwork`), else as `_decided_for_sender`
        says."""
        nsg_id = nsg.nsg_id.lower()
        by_source = self._source_dependent.get(nsg_id)
        if by_source is None:
            by_source = self._source_dependent[nsg_id] = any(
                rule.source_asgs or not ({p.strip().lower() for p in rule.source_prefixes} & ANY_SOURCE_WORDS)
                for rule in nsg.rules
                if rule.direction.lower() == "outbound"
            )
        compiled = self._compiled_nsgs.get((nsg_id, port))
        if compiled is None:
            compiled = self._compiled_nsgs[(nsg_id, port)] = compile_nsg(nsg, port)
        if by_source:  # on rules sorted and matched once
            return self._decided_for_sender(
                (nsg_id, port),
                source,
                lambda within: same_for_every_sender_in(compiled, within),
                lambda sender: decide_nsg(compiled, sender, port),
                self._nsg_subnet_decisions,
            )
        decision = self._nsg_decisions.get((nsg_id, port))
        if decision is None:
            decision = self._nsg_decisions[(nsg_id, port)] = decide_nsg(compiled, source, port)
        return decision

    def _through_subnet(
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
            path = _undetermined(_sentence([self._index.missing("Subnet", subnet_id, ListName.VIRTUAL_NETWORKS)]))
            where = f"NIC {interface.name}" if interface else ""
        else:
            path, _ = self._subnet_path(
                subnet, interface, configuration, port, is_app=is_app, flexible_member=flexible_member
            )
            if port != SMTP_PORT:  # where to close a path is advice on TCP 25 only: the subnet's path as it is
                return path
            where = closing_point(interface, subnet)
        # not dataclasses.replace: this runs once a path of every resource, and replace costs four times as much
        return NetworkPath(path.egress, path.outcome, path.reason, path.firewall, path.via, where)

    def _subnet_path(
        self,
        subnet: Subnet,
        interface: NetworkInterface | None,
        configuration: IpConfiguration | None,
        port: int,
        *,
        is_app: bool,
        flexible_member: bool,
    ) -> tuple[NetworkPath, bool]:
        """The subnet's path, and whether it is shared: decided without the sender's address, or for the whole
        subnet the sender lies in."""
        outbound = (
            (configuration.has_public_ip, configuration.public_ip_id, configuration.backend_pool_ids)
            if configuration
            else None
        )
        key = (subnet.subnet_id, interface.nsg_id if interface else None, outbound, port, is_app, flexible_member)
        path = self._subnet_paths.get(key)
        if path is not None:
            return path, True
        prefixes = tuple(subnet.address_prefixes)
        path = self._within_subnet_paths.get(key)
        if path is not None and inside(prefixes, _sender(subnet, configuration)):
            return path, True
        self._source_read, self._subnet_wide, self._sender_subnet = False, False, prefixes
        path = self._subnet_path_from(
            subnet, interface, configuration, port, is_app=is_app, flexible_member=flexible_member
        )
        if self._source_read:
            return path, False
        (self._within_subnet_paths if self._subnet_wide else self._subnet_paths)[key] = path
        return path, True

    def _subnet_path_from(
        self,
        subnet: Subnet,
        interface: NetworkInterface | None,
        configuration: IpConfiguration | None,
        port: int,
        *,
        is_app: bool,
        flexible_member: bool,
    ) -> NetworkPath:
        source = _sender(subnet, configuration)
        steps: list[str] = []
        for level, nsg_id in (("NIC", interface.nsg_id if interface else None), ("subnet", subnet.nsg_id)):
            if not nsg_id:
                continue
            nsg = self._index.security_groups.get(nsg_id.lower())
            if nsg is None:
                return _undetermined(
                    _sentence([self._index.missing(f"The {level}'s NSG", nsg_id, ListName.NETWORK_SECURITY_GROUPS)])
                )
            decision = self._nsg(nsg, source, port)
            notes = capped(decision.notes, "rules that cover only some destinations")
            steps.append(
                Hop(
                    f"{decision.describe(nsg)} (on the {level})" + "".join(f"; {n}" for n in notes),
                    "nsg",
                    nsg.nsg_id,
                )
            )
            if decision.allowed is None:
                return _undetermined(_sentence(steps))
            if not decision.allowed:
                egress = self._outbound(subnet, configuration, is_app, flexible_member)[0]
                return NetworkPath(egress, Outcome.DENIED, _sentence(steps))
        return self._routed(subnet, configuration, source, port, steps, is_app=is_app, flexible_member=flexible_member)

    def _routed(
        self,
        subnet: Subnet,
        configuration: IpConfiguration | None,
        source: tuple[str, ...],
        port: int,
        steps: list[str],
        *,
        is_app: bool,
        flexible_member: bool,
    ) -> NetworkPath:
        route: Route | None = None
        table: RouteTable | None = None
        if subnet.route_table_id:
            table = self._index.route_tables.get(subnet.route_table_id.lower())
            if table is None:
                return _undetermined(
                    _sentence(
                        [*steps, self._index.missing("Route table", subnet.route_table_id, ListName.ROUTE_TABLES)]
                    )
                )
            route = internet_route(table.routes)
        vnet_id = vnet_of(subnet.subnet_id)
        if route is None:
            # no user-defined route for the internet: a Virtual WAN hub may propagate its default route
            through_hub = self._hub_route(vnet_id, source, port, steps)
            if through_hub is not None:
                return _last_step_is(through_hub, "virtual_hub", "")
        elif route.next_hop_type.lower() != "internet" and table is not None:
            return self._next_hop(route, table, vnet_id, source, port, steps)
        egress, how = self._outbound(subnet, configuration, is_app, flexible_member)
        if egress is Egress.UNKNOWN:
            return _undetermined(_sentence([*steps, Hop(how, "outbound", egress.value)]))
        outcome = Outcome.DENIED if egress is Egress.NONE else Outcome.OPEN
        return NetworkPath(egress, outcome, _sentence([*steps, Hop(how, "outbound", egress.value)]))

    def _next_hop(
        self, route: Route, table: RouteTable, vnet_id: str, source: tuple[str, ...], port: int, steps: list[str]
    ) -> NetworkPath:
        return _last_step_is(
            self._route_path(route, table.name, vnet_id, source, port, steps), "route", table.route_table_id
        )

    def _route_path(
        self, route: Route, table_name: str, vnet_id: str, source: tuple[str, ...], port: int, steps: list[str]
    ) -> NetworkPath:
        hop = route.next_hop_type.lower()
        said = f"Route {route.name} in route table {table_name} sends {route.address_prefix} to {route.next_hop_type}"
        if hop in ("none", "vnetlocal"):
            return NetworkPath(Egress.NONE, Outcome.DENIED, _sentence([*steps, said + ": the traffic is dropped"]))
        if hop == "virtualnetworkgateway":
            return NetworkPath(
                Egress.ON_PREMISES,
                Outcome.UNDETERMINED,
                _sentence(
                    [
                        *steps,
                        f"{said} (forced tunnelling): the traffic leaves for on-premises, not Azure's internet edge",
                    ]
                ),
            )
        if hop != "virtualappliance":
            return _undetermined(_sentence([*steps, f"{said}, a next hop port25-audit does not know"]))
        address = route.next_hop_ip or ""
        said = f"{said} {address}"
        firewalls, elsewhere = self._firewalls_at(address, vnet_id)
        if len(firewalls) == 1:
            reached = Hop(
                f"{said}, Azure Firewall {firewalls[0].name} (subscription {firewalls[0].subscription_id})",
                "firewall",
                firewalls[0].resource_id,
            )
            return self._through_firewall(firewalls[0], source, port, [*steps, reached])
        where = f"VNet {vnet_id.rsplit('/', 1)[-1]}, its peers or its Virtual WAN hub"
        if len(firewalls) > 1:
            names = ", ".join(capped([f.resource_id for f in firewalls], "firewalls"))
            return _undetermined(
                _sentence(
                    [*steps, f"{said}, the address of more than one Azure Firewall reachable from {where}: {names}"]
                )
            )
        appliances = [
            nic for vnet in self._index.reachable_vnets(vnet_id) for nic in self._index.interfaces_at(vnet, address)
        ]
        if appliances:
            return NetworkPath(
                Egress.APPLIANCE,
                Outcome.UNDETERMINED,
                _sentence(
                    [
                        *steps,
                        f"{said}, network appliance NIC {appliances[0]}: the appliance's own path decides, and it "
                        "leaves Azure's internet edge out of this answer",
                    ]
                ),
                via=appliances[0],
            )
        other = (
            f"; an Azure Firewall with that address is in another network ({', '.join(elsewhere)}), which the "
            "sender's network does not reach"
            if elsewhere
            else ""
        )
        return NetworkPath(
            Egress.APPLIANCE,
            Outcome.UNDETERMINED,
            _sentence(
                [
                    *steps,
                    f"{said}, which is not the address of an Azure Firewall or NIC known in {where}{other}: the "
                    "appliance's own path decides, and it leaves Azure's internet edge out of this answer",
                ]
            ),
            via=address,
        )

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

    def _hub_route(self, vnet_id: str, source: tuple[str, ...], port: int, steps: list[str]) -> NetworkPath | None:
        """Where a Virtual WAN hub sends the VNet's internet traffic, if it is connected with internet security to
        a hub that sends it to a firewall; None when no hub takes it (it leaves from the VNet itself)."""
        for hub, connection in self._index.hub_connections.get(vnet_id, []):
            if not connection.internet_security:
                continue
            said = (
                f"VNet {vnet_id.rsplit('/', 1)[-1]} is connected to Virtual WAN hub {hub.name} with internet security"
            )
            if not hub.routing_intent_read:
                return _undetermined(_sentence([*steps, f"{said}, whose routing intent could not be read"]))
            next_hop = hub.internet_next_hop
            how = "its routing intent sends internet traffic to"
            if next_hop is None:
                table_id = (connection.route_table_id or f"{hub.hub_id}/hubRouteTables/defaultRouteTable").lower()
                if hub.route_tables is None:
                    return _undetermined(_sentence([*steps, f"{said}, whose route tables could not be read"]))
                table = next((t for t in hub.route_tables if t.route_table_id.lower() == table_id), None)
                route = next(
                    (r for r in (table.routes if table else ()) if "0.0.0.0/0" in {d.strip() for d in r.destinations}),
                    None,
                )
                if route is None:
                    continue
                next_hop, how = route.next_hop, f"its route table {table.name if table else ''} sends 0.0.0.0/0 to"
            firewall = self._index.firewalls.get(next_hop.lower())
            appliance = _not_a_firewall(next_hop)
            if firewall is None and appliance:
                return NetworkPath(
                    Egress.APPLIANCE,
                    Outcome.UNDETERMINED,
                    _sentence(
                        [
                            *steps,
                            f"{said}; {how} {appliance}: the appliance's own path decides, and it leaves Azure's "
                            "internet edge out of this answer",
                        ]
                    ),
                    via=next_hop,
                )
            if firewall is None:
                return _undetermined(
                    _sentence(
                        [
                            *steps,
                            f"{said}; {how} {next_hop}",
                            self._index.missing("Azure Firewall", next_hop, ListName.AZURE_FIREWALLS),
                        ]
                    )
                )
            reached = Hop(
                f"{said}; {how} Azure Firewall {firewall.name} (subscription {firewall.subscription_id})",
                "firewall",
                firewall.resource_id,
            )
            return self._through_firewall(firewall, source, port, [*steps, reached])
        # A connection to a hub shows on the spoke as a peering with the hub's own VNet, which no list returns.
        unseen_peers = [p for p in self._index.vnets.get(vnet_id, ()) if p not in self._index.collected_vnets]
        if self._index.unread_hubs and unseen_peers:
            names = ", ".join(capped([h.hub_id for h in self._index.unread_hubs], "hubs"))
            return _undetermined(
                _sentence(
                    [
                        *steps,
                        f"VNet {vnet_id.rsplit('/', 1)[-1]} is peered with {unseen_peers[0]}, which may be a "
                        f"Virtual WAN hub whose connections could not be read ({names})",
                    ]
                )
            )
        return None

    def _firewall_decision(self, firewall: Resource, source: tuple[str, ...] | None, port: int) -> FirewallDecision:
        """The firewall's rules for this sender: decided once per firewall and port when no rule that may match
        looks at the sender (then the subnet's path is shared too), else as `_decided_for_sender` says."""
        networking, rules = firewall.firewall, self._index.rules
        assert networking is not None
        key = (firewall.resource_id.lower(), port)
        by_sender = self._firewall_by_sender.get(key)
        if by_sender is None:
            by_sender = self._firewall_by_sender[key] = rules.looks_at_sender(networking, firewall.name, port)
        if by_sender and source is not None:
            return self._decided_for_sender(
                key,
                source,
                lambda within: rules.same_for_every_sender_in(networking, firewall.name, within, port),
                lambda sender: rules.decide(networking, firewall.name, sender, port),
                self._firewall_subnet_decisions,
            )
        # kept per firewall and port: the decision for every sender, or (rules naming senders) for any sender
        decision = self._firewall_decisions.get(key)
        if decision is None:
            decision = self._firewall_decisions[key] = rules.decide(networking, firewall.name, source, port)
        return decision

    def _decided_for_sender(
        self,
        key: tuple[str, int],
        source: Sequence[str],
        same_in: Callable[[tuple[str, ...]], bool],
        decide: Callable[[Sequence[str]], _Decision],
        kept: dict[tuple[str, int, tuple[str, ...]], _Decision],
    ) -> _Decision:
        """A decision (an NSG's or a firewall's, `key` names it and the port) whose rules name sources: once per
        subnet when `same_in` the subnet being decided (its rules hold it whole or not at all) and the sender lies
        inside it, and the subnet's path is then kept for the senders inside it; else for this sender, not kept (a
        million senders' decisions would cost more memory than deciding again costs time)."""
        within = self._sender_subnet
        wide = (*key, within)
        same = self._same_in_subnet.get(wide)
        if same is None:
            same = self._same_in_subnet[wide] = same_in(within)
        if same and inside(within, source):
            self._subnet_wide = True
            decision = kept.get(wide)
            if decision is None:
                decision = kept[wide] = decide(within)
            return decision
        self._source_read = True
        return decide(source)

    def _through_firewall(
        self, firewall: Resource, source: tuple[str, ...], port: int, steps: list[str]
    ) -> NetworkPath:
        """Traffic that reaches an Azure Firewall (the last step says how): its own way out, then its rules for this
        sender."""
        own = self._firewall_exit(firewall)
        if own is not None:
            return _undetermined(_sentence([*steps, own]), firewall=firewall, via=firewall.resource_id)
        decision = self._firewall_decision(firewall, source, port)
        said = _sentence([*steps, Hop(decision.reason, "firewall_rules", firewall.resource_id)])
        if decision.allowed is None:
            return _undetermined(said, firewall=firewall, via=firewall.resource_id)
        outcome = Outcome.VIA_FIREWALL if decision.allowed else Outcome.DENIED
        return NetworkPath(Egress.FIREWALL, outcome, said, firewall, firewall.resource_id)

    def _firewall_exit(self, firewall: Resource) -> str | None:
        """Why the firewall's own way to the internet is not known; None when it sends from its own public IP."""
        networking = firewall.firewall
        if networking is None or not networking.has_public_ip:
            return f"Azure Firewall {firewall.name} has no public IP configuration: forced tunnelling or missing data"
        if networking.forced_tunnelling:
            return (
                f"Azure Firewall {firewall.name} has a management IP configuration (forced tunnelling): its own "
                "default route may lead to a gateway, not Azure's internet edge"
            )
        subnet = self._index.subnets.get((networking.subnet_id or "").lower())
        if subnet is not None and subnet.route_table_id:
            table = self._index.route_tables.get(subnet.route_table_id.lower())
            route = internet_route(table.routes) if table else None
            if table is None:
                return self._index.missing(
                    "The firewall subnet's route table", subnet.route_table_id, ListName.ROUTE_TABLES
                )
            if route is not None and route.next_hop_type.lower() != "internet":
                return (
                    f"Azure Firewall {firewall.name}'s own route {route.name} sends {route.address_prefix} to "
                    f"{route.next_hop_type} (forced tunnelling), not to the internet"
                )
        return None

    def _firewall_itself(self, firewall: Resource, port: int) -> NetworkPath:
        """The firewall's own finding: can any sender it serves get TCP `port` out through it?"""
        own = self._firewall_exit(firewall)
        if own is not None:
            return _undetermined(own + ".")
        decision = self._firewall_decision(firewall, None, port)
        reason = f"The firewall sends from its own public IP. {decision.reason}."
        if decision.allowed is None:
            return NetworkPath(Egress.PUBLIC_IP, Outcome.UNDETERMINED, reason)
        return NetworkPath(Egress.PUBLIC_IP, Outcome.OPEN if decision.allowed else Outcome.DENIED, reason)

    def _outbound(
        self, subnet: Subnet, configuration: IpConfiguration | None, is_app: bool, flexible_member: bool = False
    ) -> tuple[Egress, str]:
        """Azure's outbound precedence: NAT gateway, instance public IP, load balancer, default outbound access."""
        if subnet.nat_gateway_id:
            return (
                Egress.NAT_GATEWAY,
                f"Outbound through NAT gateway {subnet.nat_gateway_id.rsplit('/', 1)[-1]} on subnet {subnet.name}",
            )
        if is_app:
            return (
                Egress.DEFAULT_OUTBOUND,
                f"Outbound from App Service's own addresses (no NAT gateway on subnet {subnet.name})",
            )
        if configuration is not None and configuration.has_public_ip:
            address = self._index.public_ips.get((configuration.public_ip_id or "").lower())
            named = (configuration.public_ip_id or "").rsplit("/", 1)[-1] or "per-instance public IP"
            return Egress.PUBLIC_IP, f"Outbound through public IP {named}" + (f" ({address})" if address else "")
        pools = [p.lower() for p in (configuration.backend_pool_ids if configuration else ())]
        balancers = [self._index.outbound_pools[p] for p in pools if p in self._index.outbound_pools]
        if balancers:
            return Egress.LOAD_BALANCER, f"Outbound through load balancer {balancers[0]} (outbound rule or SNAT)"
        unknown_pools = [p for p in pools if p not in self._index.backend_pools]
        if unknown_pools:
            return Egress.UNKNOWN, self._index.missing(
                "Load balancer backend pool", unknown_pools[0], ListName.LOAD_BALANCERS
            )
        if flexible_member:
            return Egress.NONE, (
                "No outbound path: Azure gives no default outbound access to flexible-orchestration scale sets or "
                f"their VMs, and subnet {subnet.name} has no NAT gateway, the NIC no public IP, no load balancer "
                "gives it outbound SNAT"
            )
        if subnet.default_outbound_access is not False:
            return Egress.DEFAULT_OUTBOUND, f"Outbound through Azure's default outbound access (subnet {subnet.name})"
        return Egress.NONE, (
            f"No outbound path: subnet {subnet.name} is private (defaultOutboundAccess false) and has "
            "no NAT gateway, the NIC no public IP, no load balancer gives it outbound SNAT"
        )
