"""Can the resource's own network carry TCP 25 to the internet? NSGs, routes and the outbound path.

The question asked of every rule is about TCP 25 to an arbitrary public internet address. Rules whose destination
covers only part of public space (a service tag other than Internet, a prefix list that does not cover it) do
not decide it; the reason names them. Rules whose match cannot be known (application security groups) make the
result uncertain when they disagree with the rule that decides, and the verdict is then `unknown`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from itertools import groupby

from auditor.model import (
    Egress,
    IpConfiguration,
    NetworkInterface,
    NetworkSecurityGroup,
    Resource,
    ResourceCategory,
    Route,
    RouteTable,
    SecurityRule,
    Subnet,
    TenantInventory,
    list_unread,
    subscription_of,
)

SMTP_PORT = 25
IPv4Network = ipaddress.IPv4Network
PRIVATE_SPACE = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
    )
)
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


def _public_blocks() -> tuple[IPv4Network, ...]:
    blocks = [ipaddress.IPv4Network("0.0.0.0/0")]
    for private in PRIVATE_SPACE:
        split: list[IPv4Network] = []
        for block in blocks:
            split.extend(
                block.address_exclude(private)
                if private.subnet_of(block)
                else ([] if block.subnet_of(private) else [block])
            )
        blocks = split
    return tuple(sorted(blocks))


PUBLIC_SPACE = _public_blocks()


class Match(Enum):
    NO = 0
    PARTIAL = 1  # some public addresses only: does not decide for an arbitrary one
    UNCERTAIN = 2  # may or may not match: cannot be known from what Azure Resource Manager says
    YES = 3


def _networks(prefixes: Iterable[str]) -> list[IPv4Network] | None:
    """IPv4 networks of the prefixes; None if any is not an address prefix (a service tag)."""
    networks = []
    for prefix in prefixes:
        try:
            network = ipaddress.ip_network(prefix.strip(), strict=False)
        except ValueError:
            return None
        if isinstance(network, IPv4Network):
            networks.append(network)
    return networks


def destination_match(rule: SecurityRule) -> Match:
    """Does the rule's destination contain an arbitrary public internet address?"""
    if rule.destination_asgs:
        return Match.NO  # application security groups hold NICs, not internet addresses
    words = {p.strip().lower() for p in rule.destination_prefixes}
    if words & INTERNET_WORDS:
        return Match.YES
    networks = _networks(rule.destination_prefixes)
    if networks is None:
        tags = {p for p in rule.destination_prefixes if _networks([p]) is None}
        return Match.NO if {t.lower() for t in tags} <= {"virtualnetwork", "azureloadbalancer"} else Match.PARTIAL
    collapsed = list(ipaddress.collapse_addresses(networks))
    if all(any(block.subnet_of(n) for n in collapsed) for block in PUBLIC_SPACE):
        return Match.YES
    if any(block.overlaps(n) for block in PUBLIC_SPACE for n in collapsed):
        return Match.PARTIAL
    return Match.NO


def source_match(rule: SecurityRule, source: Sequence[str]) -> Match:
    """Does the rule's source contain the resource (its private address, or its whole subnet)?"""
    if rule.source_asgs:
        return Match.UNCERTAIN
    if {p.strip().lower() for p in rule.source_prefixes} & ANY_SOURCE_WORDS:
        return Match.YES
    networks = _networks(rule.source_prefixes)
    ours = _networks(source)
    if networks is None or not ours:
        return Match.NO if networks is None else Match.UNCERTAIN
    if all(any(o.subnet_of(n) for n in networks) for o in ours):
        return Match.YES
    return Match.UNCERTAIN if any(o.overlaps(n) for o in ours for n in networks) else Match.NO


def port_matches(ranges: Sequence[str], port: int = SMTP_PORT) -> bool:
    for entry in ranges:
        for part in entry.split(","):
            part = part.strip()
            if part in ("*", "any", "Any"):
                return True
            low, _, high = part.partition("-")
            try:
                if int(low) <= port <= int(high or low):
                    return True
            except ValueError:
                continue
    return False


def rule_match(rule: SecurityRule, source: Sequence[str]) -> Match:
    if rule.direction.lower() != "outbound" or rule.protocol.lower() not in ("tcp", "*", "any"):
        return Match.NO
    if not port_matches(rule.destination_ports):
        return Match.NO
    destination = destination_match(rule)
    if destination is Match.NO:
        return Match.NO
    origin = source_match(rule, source)
    if origin is Match.NO:
        return Match.NO
    return min(destination, origin, key=lambda m: m.value)


@dataclass(frozen=True)
class NsgDecision:
    allowed: bool | None  # None: cannot be known
    rule: SecurityRule | None
    notes: tuple[str, ...] = ()

    def describe(self, nsg: NetworkSecurityGroup) -> str:
        if self.rule is None:
            return f"NSG {nsg.name}: " + "; ".join(self.notes)
        verb = "allows" if self.allowed else "denies"
        kind = "default rule" if self.rule.is_default else "rule"
        return f"NSG {nsg.name} {kind} {self.rule.name} (priority {self.rule.priority}) {verb} TCP 25 to the internet"


def _label(rule: SecurityRule) -> str:
    return f"{rule.name} (priority {rule.priority}, {rule.access})"


def evaluate_nsg(nsg: NetworkSecurityGroup, source: Sequence[str]) -> NsgDecision:
    """Outbound rules in priority order, first match wins; defaults included (and supplied if the data lacks them)."""
    rules = [r for r in nsg.rules if r.direction.lower() == "outbound"]
    if not any(r.is_default for r in rules):
        rules += DEFAULT_OUTBOUND_RULES
    notes: list[str] = []
    pending: list[SecurityRule] = []
    for priority, group in groupby(sorted(rules, key=lambda r: r.priority), key=lambda r: r.priority):
        tied = list(group)
        matches = {rule.name: rule_match(rule, source) for rule in tied}
        certain = [r for r in tied if matches[r.name] is Match.YES]
        for rule in tied:
            if matches[rule.name] is Match.PARTIAL:
                notes.append(
                    f"rule {_label(rule)} covers only some public destinations "
                    f"({', '.join(rule.destination_prefixes)}): not counted for the internet at large"
                )
        pending += [r for r in tied if matches[r.name] is Match.UNCERTAIN]
        if not certain:
            continue
        accesses = {r.access.lower() for r in certain}
        if len(accesses) > 1:
            return NsgDecision(
                None,
                None,
                (
                    f"rules {', '.join(map(_label, certain))} share priority {priority} and "
                    "disagree (Azure does not allow two rules of one priority)",
                    *notes,
                ),
            )
        allowed = accesses == {"allow"}
        doubtful = [r for r in pending if (r.access.lower() == "allow") != allowed]
        if doubtful:
            return NsgDecision(
                None,
                None,
                (
                    f"rule(s) {', '.join(map(_label, doubtful))} may apply (application security group or a source "
                    f"that only partly covers the resource) before {_label(certain[0])}",
                    *notes,
                ),
            )
        return NsgDecision(allowed, certain[0], tuple(notes))
    return NsgDecision(None, None, ("no outbound rule matched", *notes))


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
    OPEN = "open"  # the network lets TCP 25 out directly
    DENIED = "denied"  # an NSG, a route or the lack of a path stops it
    VIA_FIREWALL = "via_firewall"  # routed through an Azure Firewall: its platform policy decides
    UNDETERMINED = "undetermined"  # an appliance, on-premises, or facts that could not be read


@dataclass(frozen=True)
class NetworkPath:
    egress: Egress
    outcome: Outcome
    reason: str
    firewall: Resource | None = None


@dataclass
class NetworkIndex:
    """Every network object of the tenant by id, firewalls by private address, and which lists failed where."""

    inventory: TenantInventory
    interfaces: dict[str, NetworkInterface] = field(default_factory=dict)
    security_groups: dict[str, NetworkSecurityGroup] = field(default_factory=dict)
    route_tables: dict[str, RouteTable] = field(default_factory=dict)
    subnets: dict[str, Subnet] = field(default_factory=dict)
    outbound_pools: dict[str, str] = field(default_factory=dict)
    backend_pools: set[str] = field(default_factory=set)
    public_ips: dict[str, str | None] = field(default_factory=dict)
    firewalls: dict[str, Resource] = field(default_factory=dict)
    failed: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for item in self.inventory.subscriptions:
            network = item.network
            self.interfaces.update((n.nic_id.lower(), n) for n in network.interfaces)
            self.security_groups.update((g.nsg_id.lower(), g) for g in network.security_groups)
            self.route_tables.update((t.route_table_id.lower(), t) for t in network.route_tables)
            self.subnets.update((s.subnet_id.lower(), s) for s in network.subnets)
            self.public_ips.update((p.public_ip_id.lower(), p.ip_address) for p in network.public_ips)
            for balancer in network.load_balancers:
                self.outbound_pools.update((p.lower(), balancer.name) for p in balancer.outbound_pool_ids)
                self.backend_pools.update(p.lower() for p in balancer.backend_pool_ids)
            for resource in item.resources:
                if resource.firewall is not None:
                    self.firewalls.update((ip, resource) for ip in resource.firewall.private_ips)
            self.failed[item.subscription.subscription_id] = {e.operation for e in item.errors}

    def missing(self, what: str, object_id: str, operation: str) -> str:
        subscription = subscription_of(object_id) or ""
        if subscription not in self.failed:
            why = f"its subscription {subscription} is not among the audited subscriptions"
        elif list_unread(self.failed[subscription], operation):
            why = f"the {operation} list of subscription {subscription} could not be read"
        else:
            why = f"it is not in the {operation} list of subscription {subscription}"
        return f"{what} {object_id} was not collected: {why}"


def _undetermined(reason: str) -> NetworkPath:
    return NetworkPath(Egress.UNKNOWN, Outcome.UNDETERMINED, reason)


class EgressEvaluator:
    def __init__(self, index: NetworkIndex) -> None:
        self._index = index

    def path(self, resource: Resource, app_subnet_id: str | None = None) -> NetworkPath:
        if resource.category is ResourceCategory.FIREWALL:
            if resource.firewall is not None and resource.firewall.has_public_ip:
                return NetworkPath(Egress.PUBLIC_IP, Outcome.OPEN, "The firewall sends from its own public IP.")
            return _undetermined("The firewall has no public IP configuration: forced tunnelling or missing data.")
        if resource.category is ResourceCategory.APP_SERVICE:
            if app_subnet_id is None:
                return NetworkPath(
                    Egress.DEFAULT_OUTBOUND, Outcome.OPEN, "The app sends from App Service's own outbound addresses."
                )
            return self._through_subnet(app_subnet_id, None, None, is_app=True)
        interface = self._primary_interface(resource)
        if isinstance(interface, NetworkPath):
            return interface
        configuration = interface.primary_ip_configuration
        if configuration is None or not configuration.subnet_id:
            return _undetermined(f"NIC {interface.name} has no IP configuration in a subnet.")
        return self._through_subnet(configuration.subnet_id, interface, configuration, is_app=False)

    def _primary_interface(self, resource: Resource) -> NetworkInterface | NetworkPath:
        if resource.category is ResourceCategory.SCALE_SET:
            if not resource.nics:
                return _undetermined("The scale set's model has no network interface configuration.")
            return sorted(resource.nics, key=lambda n: not n.primary)[0]
        if not resource.nic_ids:
            return _undetermined("The VM lists no network interface.")
        nic_id = resource.nic_ids[0]
        interface = self._index.interfaces.get(nic_id.lower())
        if interface is None:
            return _undetermined(self._index.missing("NIC", nic_id, "networkInterfaces") + ".")
        return interface

    def _through_subnet(
        self, subnet_id: str, interface: NetworkInterface | None, configuration: IpConfiguration | None, *, is_app: bool
    ) -> NetworkPath:
        subnet = self._index.subnets.get(subnet_id.lower())
        if subnet is None:
            return _undetermined(self._index.missing("Subnet", subnet_id, "virtualNetworks") + ".")
        source = (
            [configuration.private_ip] if configuration and configuration.private_ip else list(subnet.address_prefixes)
        )
        steps: list[str] = []
        for level, nsg_id in (("NIC", interface.nsg_id if interface else None), ("subnet", subnet.nsg_id)):
            if not nsg_id:
                continue
            nsg = self._index.security_groups.get(nsg_id.lower())
            if nsg is None:
                return _undetermined(self._index.missing(f"The {level}'s NSG", nsg_id, "networkSecurityGroups") + ".")
            decision = evaluate_nsg(nsg, source)
            steps.append(f"{decision.describe(nsg)} (on the {level})" + "".join(f"; {n}" for n in decision.notes))
            if decision.allowed is None:
                return _undetermined(". ".join(steps) + ".")
            if not decision.allowed:
                egress = self._outbound(subnet, configuration, is_app)[0]
                return NetworkPath(egress, Outcome.DENIED, ". ".join(steps) + ".")
        return self._routed(subnet, configuration, is_app, steps)

    def _routed(
        self, subnet: Subnet, configuration: IpConfiguration | None, is_app: bool, steps: list[str]
    ) -> NetworkPath:
        route: Route | None = None
        table_name = ""
        if subnet.route_table_id:
            table = self._index.route_tables.get(subnet.route_table_id.lower())
            if table is None:
                return _undetermined(
                    ". ".join([*steps, self._index.missing("Route table", subnet.route_table_id, "routeTables")]) + "."
                )
            route = internet_route(table.routes)
            table_name = table.name
        if route is not None and route.next_hop_type.lower() != "internet":
            hop = route.next_hop_type.lower()
            said = (
                f"Route {route.name} in route table {table_name} sends {route.address_prefix} to {route.next_hop_type}"
            )
            if hop in ("none", "vnetlocal"):
                return NetworkPath(
                    Egress.NONE, Outcome.DENIED, ". ".join([*steps, said + ": the traffic is dropped"]) + "."
                )
            if hop == "virtualappliance":
                firewall = self._index.firewalls.get(route.next_hop_ip or "")
                if firewall is not None:
                    return NetworkPath(
                        Egress.FIREWALL,
                        Outcome.VIA_FIREWALL,
                        ". ".join(
                            [
                                *steps,
                                f"{said} {route.next_hop_ip}, Azure Firewall {firewall.name} (subscription "
                                f"{firewall.subscription_id})",
                            ]
                        )
                        + ".",
                        firewall,
                    )
                return NetworkPath(
                    Egress.APPLIANCE,
                    Outcome.UNDETERMINED,
                    ". ".join(
                        [
                            *steps,
                            f"{said} {route.next_hop_ip}, which is not the address of an Azure Firewall in the "
                            "audited subscriptions: the appliance's own path decides, and it leaves Azure's internet "
                            "edge out of this answer",
                        ]
                    )
                    + ".",
                )
            if hop == "virtualnetworkgateway":
                return NetworkPath(
                    Egress.ON_PREMISES,
                    Outcome.UNDETERMINED,
                    ". ".join(
                        [
                            *steps,
                            f"{said} (forced tunnelling): the traffic leaves for on-premises, "
                            "not Azure's internet edge",
                        ]
                    )
                    + ".",
                )
            return _undetermined(". ".join([*steps, f"{said}, a next hop port25-audit does not know"]) + ".")
        egress, how = self._outbound(subnet, configuration, is_app)
        if egress is Egress.UNKNOWN:
            return _undetermined(". ".join([*steps, how]) + ".")
        outcome = Outcome.DENIED if egress is Egress.NONE else Outcome.OPEN
        return NetworkPath(egress, outcome, ". ".join([*steps, how]) + ".")

    def _outbound(self, subnet: Subnet, configuration: IpConfiguration | None, is_app: bool) -> tuple[Egress, str]:
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
            return Egress.UNKNOWN, self._index.missing("Load balancer backend pool", unknown_pools[0], "loadBalancers")
        if subnet.default_outbound_access is not False:
            return Egress.DEFAULT_OUTBOUND, f"Outbound through Azure's default outbound access (subnet {subnet.name})"
        return Egress.NONE, (
            f"No outbound path: subnet {subnet.name} is private (defaultOutboundAccess false) and has "
            "no NAT gateway, the NIC no public IP, no load balancer gives it outbound SNAT"
        )
