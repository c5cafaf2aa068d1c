"""The domain types that pass between collect, classify and report.

Plain frozen dataclasses: nothing here knows the Azure SDK or any report format.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum

_SUBSCRIPTION_IN_ID = re.compile(r"^/subscriptions/([^/]+)", re.IGNORECASE)


# A GUID, as subscription ids are (fullmatch only: `$` would also match before a trailing newline).
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def subscription_of(resource_id: str | None) -> str | None:
    """The subscription id (lower case) an ARM resource id names, if it names one."""
    match = _SUBSCRIPTION_IN_ID.match(resource_id or "")
    return match.group(1).lower() if match else None


class ResourceCategory(StrEnum):
    """What the rules distinguish among the resources we audit."""

    VIRTUAL_MACHINE = "virtual_machine"
    SCALE_SET = "scale_set"
    APP_SERVICE = "app_service"
    FIREWALL = "firewall"
    CONTAINER_APP = "container_app"
    CONTAINER_INSTANCE = "container_instance"


class PowerState(StrEnum):
    """Whether a resource runs now (findings.csv's `state`): a stopped or deallocated one cannot send now, but
    will when started, so its verdict is still what its path gives."""

    RUNNING = "running"
    STOPPED = "stopped"
    DEALLOCATED = "deallocated"


class ListName(StrEnum):
    """The lists a subscription is read from (a failed one is named by this in the reports)."""

    VIRTUAL_MACHINES = "virtualMachines"
    SCALE_SETS = "virtualMachineScaleSets"
    SITES = "sites"
    SLOTS = "slots"  # a list under each site: `sites/{name}/slots`
    HOSTING_ENVIRONMENTS = "hostingEnvironments"
    AZURE_FIREWALLS = "azureFirewalls"
    CONTAINER_APPS = "containerApps"
    CONTAINER_GROUPS = "containerGroups"
    NETWORK_INTERFACES = "networkInterfaces"
    PUBLIC_IP_ADDRESSES = "publicIPAddresses"
    NETWORK_SECURITY_GROUPS = "networkSecurityGroups"
    ROUTE_TABLES = "routeTables"
    VIRTUAL_NETWORKS = "virtualNetworks"
    NAT_GATEWAYS = "natGateways"
    LOAD_BALANCERS = "loadBalancers"
    FIREWALL_POLICIES = "firewallPolicies"
    IP_GROUPS = "ipGroups"
    VIRTUAL_HUBS = "virtualHubs"


@dataclass(frozen=True, slots=True)
class AuditedType:
    """A resource type that gets a finding: the rules' category for it and the list it is read from."""

    category: ResourceCategory
    resource_type: str
    list_name: ListName
    parent_list: ListName | None = None  # read under each item of that list (slots under sites)


# Adding a resource type starts here: every layer reads this table (collect's readers and converters are keyed by
# its list names, drift by its types, the rules by its categories).
AUDITED_TYPES: tuple[AuditedType, ...] = (
    AuditedType(ResourceCategory.VIRTUAL_MACHINE, "Microsoft.Compute/virtualMachines", ListName.VIRTUAL_MACHINES),
    AuditedType(ResourceCategory.SCALE_SET, "Microsoft.Compute/virtualMachineScaleSets", ListName.SCALE_SETS),
    AuditedType(ResourceCategory.APP_SERVICE, "Microsoft.Web/sites", ListName.SITES),
    AuditedType(ResourceCategory.APP_SERVICE, "Microsoft.Web/sites/slots", ListName.SLOTS, ListName.SITES),
    AuditedType(ResourceCategory.FIREWALL, "Microsoft.Network/azureFirewalls", ListName.AZURE_FIREWALLS),
    AuditedType(ResourceCategory.CONTAINER_APP, "Microsoft.App/containerApps", ListName.CONTAINER_APPS),
    AuditedType(
        ResourceCategory.CONTAINER_INSTANCE, "Microsoft.ContainerInstance/containerGroups", ListName.CONTAINER_GROUPS
    ),
)
AUDITED_BY_TYPE: dict[str, AuditedType] = {t.resource_type.lower(): t for t in AUDITED_TYPES}
_SITE_IN_SLOT_ID = re.compile(r"/providers/Microsoft\.Web/sites/([^/]+)/slots/", re.IGNORECASE)


def name_of(resource_id: str) -> str:
    """How a sentence names an Azure object by its id: its name, and a subnet's VNet (`snet-apps of VNet vnet-hub`);
    the ids stay in scan.json's path."""
    parts = resource_id.strip("/").split("/")
    if len(parts) >= 4 and parts[-2].lower() == "subnets":
        return f"{parts[-1]} of VNet {parts[-3]}"
    return parts[-1] if parts[-1] else resource_id


def lists_of(resource_type: str, resource_id: str) -> tuple[str, ...]:
    """The lists (operations) a resource of this type comes from: any of them failing leaves it unread."""
    audited = AUDITED_BY_TYPE.get(resource_type.lower())
    if audited is None:
        return ()
    if audited.parent_list is None:
        return (audited.list_name,)
    site = _SITE_IN_SLOT_ID.search(resource_id)
    own = f"{audited.parent_list}/{site.group(1) if site else ''}/{audited.list_name}"
    return (audited.parent_list, own)


class PlatformPolicy(StrEnum):
    """What Azure itself does to outbound TCP 25 (docs/design.md §1)."""

    NOT_BLOCKED = "not_blocked"
    BLOCKED = "blocked"
    BLOCKED_EXEMPTION_AVAILABLE = "blocked_exemption_available"
    EXEMPTED = "exempted"
    NOT_SUPPORTED = "not_supported"
    UNKNOWN = "unknown"


class Verdict(StrEnum):
    """Can this resource deliver mail to the internet on port 25 right now?"""

    OPEN = "open"
    BLOCKED = "blocked"
    DENIED_BY_NETWORK = "denied_by_network"
    NOT_SUPPORTED = "not_supported"
    UNKNOWN = "unknown"


class Egress(StrEnum):
    """How the resource's traffic leaves for the internet."""

    PUBLIC_IP = "public_ip"
    NAT_GATEWAY = "nat_gateway"
    LOAD_BALANCER = "load_balancer"
    DEFAULT_OUTBOUND = "default_outbound"
    FIREWALL = "firewall"
    APPLIANCE = "appliance"
    ON_PREMISES = "on_premises"
    NONE = "none"
    UNKNOWN = "unknown"


class Offer(StrEnum):
    """Subscription offers, as the rules and the audit config name them."""

    ENTERPRISE_AGREEMENT = "enterprise_agreement"
    MCA_ENTERPRISE = "mca_enterprise"
    MCA_INDIVIDUAL = "mca_individual"
    ENTERPRISE_DEVTEST = "enterprise_devtest"
    PAYG_DEVTEST = "payg_devtest"
    PAY_AS_YOU_GO = "pay_as_you_go"
    MSDN = "msdn"
    VISUAL_STUDIO = "visual_studio"
    MPN = "mpn"
    CSP = "csp"
    FREE_TRIAL = "free_trial"
    AZURE_PASS = "azure_pass"
    AZURE_IN_OPEN = "azure_in_open"
    EDUCATION = "education"
    AZURE_FOR_STUDENTS = "azure_for_students"
    STUDENTS_STARTER = "students_starter"
    SPONSORSHIP = "sponsorship"
    BIZSPARK = "bizspark"
    BIZSPARK_PLUS = "bizspark_plus"
    LIGHTWEIGHT_TRIAL = "lightweight_trial"
    SUPPORT_PLAN = "support_plan"
    ENTRA_ID_ACCESS = "entra_id_access"
    INTERNAL = "internal"


class Ruleset(StrEnum):
    """Which edition of Microsoft's article the rules follow."""

    CURRENT = "current"
    EDITION_2020 = "2020"


DEFAULT_RULESET = Ruleset.CURRENT


class ErrorCode(StrEnum):
    """The codes port25-audit gives a collection error itself (Azure's own codes pass through as they are)."""

    SIGN_IN_FAILED = "SignInFailed"
    MALFORMED_ITEM = "MalformedItem"  # items of a list that could not be understood; the others were read
    DUPLICATE_ITEM = "DuplicateItem"  # a list named one resource more than once (audited once; paging may have shifted)
    NOT_VISIBLE = "NotVisible"  # a --subscription the identity does not see
    NOT_RECORDED = "NotRecorded"  # a request the replayed recording holds no answer for
    PROVIDER_NOT_REGISTERED = "ProviderNotRegistered"  # the SDK asked to register a provider; we only read
    NOT_IN_RESOURCE_GRAPH = "NotInResourceGraph"  # Resource Graph has no record of the subscription


@dataclass(frozen=True, slots=True)
class CollectionError:
    """A list (or the subscription list itself) that could not be read."""

    operation: str
    request: str
    message: str
    status: int | None = None
    code: str = ""

    def describe(self) -> str:
        status = f"HTTP {self.status} " if self.status is not None else ""
        code = f"{self.code}: " if self.code else ""
        return f"{self.operation}: {status}{code}{self.message} ({self.request})"

    def headline(self) -> str:
        """`effectiveRouteTable: HTTP 403 AuthorizationFailed`: which read failed and how, without Azure's message
        (a finding's reason says this; the reports list the whole error with its subscription)."""
        said = " ".join(filter(None, (f"HTTP {self.status}" if self.status is not None else "", self.code)))
        return f"{self.operation}: {said}" if said else f"{self.operation}: {self.message[:80]}"


# Errors of these operations mean nothing of the subscription was read: the subscription list, or the Resource
# Graph query that stood for every list at once.
SUBSCRIPTION_LIST = "subscriptions"
# The list of a subscription's resource groups (read for --tag and tag exceptions): their tags.
RESOURCE_GROUPS = "resourceGroups"
# The operation a NIC's effective route table is read by (`--effective-routes`): its errors are a subnet's.
EFFECTIVE_ROUTES = "effectiveRouteTable"
MANAGEMENT_GROUP_PREFIX = "/providers/Microsoft.Management/managementGroups/"  # a management group's id
_DESCENDANTS = re.compile(r"managementGroups/([^/]+)/descendants")


def descendants_list(group: str) -> str:
    """The operation name of a management group's descendants list, as its collection errors carry it."""
    return f"managementGroups/{group}/descendants"


def group_of(operation: str) -> str | None:
    """The management group whose descendants list an operation name is; None for any other list."""
    match = _DESCENDANTS.fullmatch(operation)
    return match.group(1) if match else None


RESOURCE_GRAPH = "resourceGraph"
WHOLE_SUBSCRIPTION_OPERATIONS = frozenset({SUBSCRIPTION_LIST, RESOURCE_GRAPH})


def list_unread(failed_operations: AbstractSet[str], operation: str) -> bool:
    """Whether a list was left unread, given the operations that failed in its subscription."""
    return operation in failed_operations or bool(failed_operations & WHOLE_SUBSCRIPTION_OPERATIONS)


def resource_unread(failed_operations: AbstractSet[str], resource_type: str, resource_id: str) -> bool:
    """Whether a resource of this type could have been left out because a list it comes from failed."""
    operations = lists_of(resource_type, resource_id) or ("",)
    return any(list_unread(failed_operations, operation) for operation in operations)


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: str
    display_name: str
    state: str
    tenant_id: str
    quota_id: str | None
    management_group: str = ""  # with --management-group: the group it sits in directly, where it was read


def routing_sides(flags: Iterable[tuple[str, bool]]) -> tuple[list[str], list[str]]:
    """An app's routing flags (by name) that say its traffic is routed into the VNet, and those that say it is not.
    All traffic routed includes the application's: applicationTraffic false beside it is not a side."""
    named = list(flags)
    on = [name for name, value in named if value]
    off = [name for name, value in named if not value]
    if any(not name.endswith("applicationTraffic") for name in on):
        off = [name for name in off if not name.endswith("applicationTraffic")]
    return on, off


@dataclass(frozen=True, slots=True)
class AppNetworking:
    """The facts about an App Service / Functions app that decide its port-25 path."""

    subnet_id: str | None
    routes_app_traffic: bool | None
    environment_id: str | None
    routing_note: str = ""  # which flags (of the payload, of config/web) decided routes_app_traffic
    routing_flags: tuple[tuple[str, bool], ...] = ()  # every routing flag read, named with where it was read
    config_unread: str = ""  # the config/web list that was needed (the payload does not say it routes) and failed

    @property
    def routing_disagrees(self) -> bool:
        """Some routing flags say routed and some not."""
        on, off = routing_sides(self.routing_flags)
        return bool(on and off)


@dataclass(frozen=True, slots=True)
class IpConfiguration:
    name: str
    primary: bool
    subnet_id: str | None
    private_ip: str | None = None
    public_ip_id: str | None = None
    has_public_ip: bool = False
    backend_pool_ids: tuple[str, ...] = ()
    asg_ids: tuple[str, ...] = ()  # the application security groups it is in (lower-case ids)


@dataclass(frozen=True, slots=True)
class NetworkInterface:
    """A NIC resource, or one NIC configuration of a scale set's model."""

    nic_id: str
    name: str
    primary: bool
    nsg_id: str | None
    ip_configurations: tuple[IpConfiguration, ...]

    @property
    def primary_ip_configuration(self) -> IpConfiguration | None:
        configurations = sorted(self.ip_configurations, key=lambda c: not c.primary)
        return configurations[0] if configurations else None


@dataclass(frozen=True, slots=True)
class NetworkRule:
    """An Azure Firewall network rule (classic, or of a policy's filter rule collection): the only kind that can
    carry SMTP. Application rules carry HTTP/S and MSSQL only; DNAT rules are for inbound traffic."""

    name: str
    protocols: tuple[str, ...]
    source_addresses: tuple[str, ...] = ()
    source_ip_groups: tuple[str, ...] = ()
    destination_addresses: tuple[str, ...] = ()
    destination_ip_groups: tuple[str, ...] = ()
    destination_fqdns: tuple[str, ...] = ()
    destination_ports: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkRuleCollection:
    """A collection of network rules with one action (Allow or Deny) and a priority (100 first, 65000 last)."""

    name: str
    priority: int
    action: str
    rules: tuple[NetworkRule, ...]


@dataclass(frozen=True, slots=True)
class RuleCollectionGroup:
    """A firewall policy's rule collection group, with only its network rule collections."""

    group_id: str
    name: str
    priority: int
    collections: tuple[NetworkRuleCollection, ...]


@dataclass(frozen=True, slots=True)
class FirewallPolicy:
    """A firewall policy; `groups` is None when its rule collection groups could not be read."""

    policy_id: str
    name: str
    base_policy_id: str | None
    groups: tuple[RuleCollectionGroup, ...] | None = ()
    snat_private_ranges: tuple[str, ...] | None = None  # snat.privateRanges; None: not set (IANA private ranges)


@dataclass(frozen=True, slots=True)
class IpGroup:
    ip_group_id: str
    name: str
    addresses: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FirewallNetworking:
    private_ips: tuple[str, ...]
    has_public_ip: bool
    subnet_id: str | None = None  # its AzureFirewallSubnet (VNet firewalls)
    hub_id: str | None = None  # its Virtual WAN hub (secured hubs, AZFW_Hub)
    policy_id: str | None = None
    classic_collections: tuple[NetworkRuleCollection, ...] = ()
    # a VNet firewall whose ipConfigurations are empty: how ARM shows a deallocated (stopped) firewall
    deallocated: bool = False
    # classic rules: additionalProperties["Network.SNAT.PrivateRanges"]; None: not set (IANA private ranges)
    snat_private_ranges: tuple[str, ...] | None = None
    rules_unreadable: str = ""  # what in its classic rule collections could not be read: its decision is unknown


@dataclass(frozen=True, slots=True)
class SecurityRule:
    name: str
    priority: int
    direction: str
    access: str
    protocol: str
    source_prefixes: tuple[str, ...]
    destination_prefixes: tuple[str, ...]
    destination_ports: tuple[str, ...]
    source_asgs: bool = False
    destination_asgs: bool = False
    is_default: bool = False
    source_ports: tuple[str, ...] = ("*",)
    source_asg_ids: tuple[str, ...] = ()  # the application security groups it names as source (lower-case ids)


@dataclass(frozen=True, slots=True)
class NetworkSecurityGroup:
    nsg_id: str
    name: str
    rules: tuple[SecurityRule, ...]


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    address_prefix: str
    next_hop_type: str
    next_hop_ip: str | None = None


@dataclass(frozen=True, slots=True)
class RouteTable:
    route_table_id: str
    name: str
    routes: tuple[Route, ...]
    # "Propagate gateway routes": whether routes a virtual network gateway learns (BGP) reach its subnets
    gateway_routes: bool = True


@dataclass(frozen=True, slots=True)
class Subnet:
    subnet_id: str
    name: str
    address_prefixes: tuple[str, ...]
    nsg_id: str | None = None
    route_table_id: str | None = None
    nat_gateway_id: str | None = None
    default_outbound_access: bool | None = None


@dataclass(frozen=True, slots=True)
class LoadBalancer:
    """Only what outbound needs: the backend pools that get outbound SNAT (outbound rules, or SNAT-ing rules)."""

    load_balancer_id: str
    name: str
    outbound_pool_ids: tuple[str, ...]
    backend_pool_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PublicIpAddress:
    public_ip_id: str
    name: str
    ip_address: str | None
    ipv6: bool = False  # publicIPAddressVersion IPv6: no IPv4 way out


@dataclass(frozen=True, slots=True)
class NatGateway:
    nat_gateway_id: str
    name: str


@dataclass(frozen=True, slots=True)
class VirtualNetwork:
    """A VNet: its address space, the VNets peered with it (peerings whose state is Connected), and those its
    peerings name in another state (Initiated, Disconnected: no traffic crosses them)."""

    vnet_id: str
    name: str
    address_prefixes: tuple[str, ...]
    peered_vnet_ids: tuple[str, ...] = ()
    unconnected_vnet_ids: tuple[str, ...] = ()
    gateway_ids: tuple[str, ...] = ()  # the virtual network gateways (VPN, ExpressRoute) in its GatewaySubnet
    remote_gateways: tuple[GatewayPeering, ...] = ()  # Connected peerings that use the remote VNet's gateway

    def learns_gateway_routes(self, table: RouteTable | None) -> bool:
        """Whether a subnet of this VNet with this route table (None: none) may receive routes a gateway learns
        from on-premises (BGP, or a VPN's local network address space), which no GET shows: the VNet has a
        gateway or uses a peer's, and the route table does not turn gateway route propagation off."""
        return bool(self.gateway_ids or self.remote_gateways) and (table is None or table.gateway_routes)


@dataclass(frozen=True, slots=True)
class GatewayPeering:
    """A peering with `useRemoteGateways`: the VNet uses the remote (hub) VNet's gateway ("gateway transit")."""

    name: str
    remote_vnet_id: str


@dataclass(frozen=True, slots=True)
class EffectiveRoute:
    """One route of a NIC's effective route table, as Azure applies it (`NetworkInterfaces_GetEffectiveRouteTable`)."""

    address_prefixes: tuple[str, ...]
    next_hop_type: str
    next_hop_ips: tuple[str, ...] = ()
    source: str = ""  # Default, User, VirtualNetworkGateway (learned by BGP), …
    state: str = "Active"


@dataclass(frozen=True, slots=True)
class SubnetRoutes:
    """The effective routes Azure applies in a subnet, read from one running NIC in it (`--effective-routes`);
    `routes` None where they could not be read (`error` says why)."""

    subnet_id: str
    nic_id: str
    routes: tuple[EffectiveRoute, ...] | None
    error: CollectionError | None = None


@dataclass(frozen=True, slots=True)
class HubConnection:
    """A spoke VNet's connection to a Virtual WAN hub; `internet_security` propagates the hub's default route."""

    connection_id: str
    name: str
    remote_vnet_id: str | None
    internet_security: bool
    route_table_id: str | None = None  # the hub route table the connection is associated with


@dataclass(frozen=True, slots=True)
class HubRoute:
    name: str
    destinations: tuple[str, ...]
    next_hop: str  # a resource id (an Azure Firewall) or an address


@dataclass(frozen=True, slots=True)
class HubRouteTable:
    route_table_id: str
    name: str
    routes: tuple[HubRoute, ...]


@dataclass(frozen=True, slots=True)
class VirtualHub:
    """A Virtual WAN hub with what decides where its spokes' internet traffic goes. A child list that could not be
    read is None: its part of the answer is not known."""

    hub_id: str
    name: str
    connections: tuple[HubConnection, ...] | None = ()
    internet_next_hop: str | None = None  # routing intent's InternetTraffic policy: the next hop's resource id
    routing_intent_read: bool = True
    route_tables: tuple[HubRouteTable, ...] | None = ()


@dataclass(frozen=True, slots=True)
class NetworkInventory:
    interfaces: tuple[NetworkInterface, ...] = ()
    public_ips: tuple[PublicIpAddress, ...] = ()
    security_groups: tuple[NetworkSecurityGroup, ...] = ()
    route_tables: tuple[RouteTable, ...] = ()
    subnets: tuple[Subnet, ...] = ()
    nat_gateways: tuple[NatGateway, ...] = ()
    load_balancers: tuple[LoadBalancer, ...] = ()
    virtual_networks: tuple[VirtualNetwork, ...] = ()
    firewall_policies: tuple[FirewallPolicy, ...] = ()
    ip_groups: tuple[IpGroup, ...] = ()
    virtual_hubs: tuple[VirtualHub, ...] = ()
    effective_routes: tuple[SubnetRoutes, ...] = ()  # read only with --effective-routes


@dataclass(frozen=True, slots=True)
class Resource:
    resource_id: str
    name: str
    resource_type: str
    kind: str
    location: str
    resource_group: str
    subscription_id: str
    category: ResourceCategory
    app: AppNetworking | None = None
    nic_ids: tuple[str, ...] = ()
    nics: tuple[NetworkInterface, ...] = ()
    firewall: FirewallNetworking | None = None
    scale_set_id: str | None = None  # a VM of a flexible-orchestration scale set: that set
    flexible: bool = False  # a scale set in flexible orchestration mode
    created: dt.datetime | None = None  # a VM's timeCreated
    state: PowerState | None = None  # None where Azure's list does not say
    tags: tuple[tuple[str, str], ...] = ()  # its Azure tags (name, value), as its list item gives them


@dataclass(frozen=True, slots=True)
class AppServiceEnvironment:
    environment_id: str
    name: str
    kind: str
    subnet_id: str | None

    @property
    def is_v3(self) -> bool:
        return self.kind.strip().upper() == "ASEV3"


@dataclass(frozen=True, slots=True)
class SubscriptionInventory:
    """Everything collected from one subscription, with the lists that failed."""

    subscription: Subscription
    resources: tuple[Resource, ...] = ()
    environments: tuple[AppServiceEnvironment, ...] = ()
    errors: tuple[CollectionError, ...] = ()
    network: NetworkInventory = field(default_factory=NetworkInventory)
    skipped: str = ""  # not read, by choice, and why: "excluded: <reason>", or its state
    # its resource groups' tags, by lower-case group name (read only for --tag and tag exceptions)
    group_tags: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BillingFact:
    """What a billing account says a subscription is (read only where the identity may read billing)."""

    subscription_id: str
    offer: Offer
    source: str


@dataclass(frozen=True, slots=True)
class TenantInventory:
    """Everything collected in one run."""

    subscriptions: tuple[SubscriptionInventory, ...]
    errors: tuple[CollectionError, ...] = ()
    billing: tuple[BillingFact, ...] = ()
    billing_note: str = ""  # why billing accounts said nothing: no permission, none visible

    @property
    def complete(self) -> bool:
        return not self.errors and all(not s.errors for s in self.subscriptions)


@dataclass(frozen=True, slots=True)
class SubscriptionFacts:
    """What Azure Resource Manager does not expose, from the audit config."""

    offer: Offer | None = None
    created: dt.date | None = None
    exemption_granted: dt.date | None = None
    exclude: bool = False  # leave it out of the audit, listed as excluded
    reason: str = ""  # why it is excluded


# Subscription states whose resources can run, audited by default ("Azure subscription states", Cost Management
# docs): a Disabled subscription's VMs are deallocated and its other services stopped; an Expired one is
# cancelled; a Deleted one holds nothing. Warned and PastDue subscriptions still run everything.
AUDITED_STATES = frozenset({"enabled", "warned", "pastdue"})


class StoppedState(StrEnum):
    """Subscription states left out unless `--include-state` names them: their resources cannot run."""

    DISABLED = "disabled"
    EXPIRED = "expired"
    DELETED = "deleted"


KNOWN_STATES = AUDITED_STATES | {state.value for state in StoppedState}


@dataclass(frozen=True, slots=True)
class Scope:
    """Which subscriptions an audit reads: those named, those under the management groups named (all visible when
    neither is given), minus the excluded ones (by id, with the reason) and those in a state not audited."""

    subscriptions: tuple[str, ...] = ()
    management_groups: tuple[str, ...] = ()
    excluded: tuple[tuple[str, str], ...] = ()  # (subscription id, reason)
    states: frozenset[str] = AUDITED_STATES  # lower case

    @classmethod
    def of(cls, scope: Scope | Sequence[str]) -> Scope:
        """A scope, from a scope or a plain list of subscription ids."""
        return scope if isinstance(scope, Scope) else cls(tuple(s.lower() for s in scope))

    @property
    def named(self) -> bool:
        return bool(self.subscriptions or self.management_groups)


class ExceptionState(StrEnum):
    """findings.csv's `exception`: an entry of the register accepts the resource's verdict, until it expires."""

    ACCEPTED = "accepted"
    EXPIRED = "expired"


_GLOB_WILDCARD = re.compile(r"[*?\[]")


def glob_start(pattern: str) -> str:
    """What of a glob is fixed: its text before the first wildcard (`*`, `?`, `[`)."""
    return _GLOB_WILDCARD.split(pattern, maxsplit=1)[0]


@dataclass(frozen=True, slots=True)
class AcceptedException:
    """One entry of the audit config's exceptions register: which resources (every selector given must hold), the
    verdicts accepted for them, who accepted them, why, and until when. It never changes a verdict."""

    number: int  # its place in the register, from 1
    line: int | None  # its line in the config, where known
    verdicts: frozenset[Verdict]
    reason: str
    owner: str
    expires: dt.date
    ticket: str = ""
    match: str = ""  # a resource id glob (`*`, `?`, `[...]`) as written; it matches without regard to case
    resource_group: str = ""
    subscription: str = ""
    tag: tuple[str, str] | None = None  # a tag name and value the resource (or its group) carries

    @property
    def where(self) -> str:
        """How the reports name it: its line in the config, or its place in the register."""
        return f"line {self.line}" if self.line is not None else f"entry {self.number}"

    @property
    def selector(self) -> str:
        """What it matches, as the config says it."""
        parts = [
            f"{key} = {value!r}"
            for key, value in (
                ("match", self.match),
                ("resource_group", self.resource_group),
                ("subscription", self.subscription),
                ("tag", f"{self.tag[0]}={self.tag[1]}" if self.tag else ""),
            )
            if value
        ]
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class ExceptionMatch:
    """The register entry that accepts a finding's verdict, and whether it still holds on the scan's day."""

    exception: AcceptedException
    state: ExceptionState

    @property
    def accepted(self) -> bool:
        return self.state is ExceptionState.ACCEPTED


class StaleWhy(StrEnum):
    MATCHES_NOTHING = "matches_nothing"  # no audited resource matches it
    VERDICT_GONE = "verdict_gone"  # the resources it matches no longer have a verdict it accepts
    UNCHECKED = "unchecked"  # it matches nothing read, and a list where its resources may be could not be read


@dataclass(frozen=True, slots=True)
class StaleException:
    exception: AcceptedException
    why: StaleWhy
    verdicts_now: tuple[Verdict, ...] = ()  # with VERDICT_GONE: the verdicts its resources have now


@dataclass(frozen=True, slots=True)
class ExceptionsOutcome:
    """What the register did in one run: the entries that expired (still matching a finding), and those stale."""

    expired: tuple[AcceptedException, ...] = ()
    stale: tuple[StaleException, ...] = ()


@dataclass(frozen=True, slots=True)
class AuditConfig:
    subscriptions: dict[str, SubscriptionFacts] = field(default_factory=dict)
    exceptions: tuple[AcceptedException, ...] = ()  # the register of accepted verdicts, in the config's order

    def facts_for(self, subscription_id: str) -> SubscriptionFacts:
        return self.subscriptions.get(subscription_id.lower(), SubscriptionFacts())


@dataclass(frozen=True, slots=True)
class OfferReading:
    """The offer a subscription is taken to be, and how we know."""

    offer: Offer | None
    quota_id: str | None
    source: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class PathHop:
    """One step of a finding's way out, for tools: what it is (nic, nsg, route, virtual_hub, firewall,
    firewall_rules, gateway, outbound, missing, step), the Azure id it names, and what it says. An outbound hop names
    the object the traffic leaves by (NAT gateway, public IP, load balancer; the subnet for default outbound access;
    the app or firewall sending from its own addresses); a step hop "" where it is a conclusion of the hops before
    it, not an object."""

    kind: str
    id: str
    says: str
    # where a rule allows TCP only to some public destinations: those it names (at most 100), and how many more
    destinations: tuple[str, ...] = ()
    more_destinations: int = 0


@dataclass(frozen=True, slots=True)
class ViaPolicy:
    """The platform policy a firewall's traffic takes (that of the firewall's subscription), and the rule that
    gives it: a resource routed through the firewall takes it."""

    policy: PlatformPolicy
    rule: str

    def __str__(self) -> str:  # findings.csv's via_policy: "not_blocked (CUR-EA-MCAE)"
        return f"{self.policy.value} ({self.rule})"


@dataclass(frozen=True, slots=True)
class SubscriptionLabel:
    """What a finding says of its subscription (findings.csv's first columns): one object for all its findings."""

    tenant_id: str
    subscription_id: str
    subscription_name: str
    offer: str
    quota_id: str


@dataclass(frozen=True, slots=True)
class NicAdvice:
    """Advice naming where to close a path on each resource's own NIC, the same for every resource alike but that
    name: its text before and after the NIC's name."""

    before: str
    after: str

    def told(self, nic: str) -> str:
        return f"{self.before}{nic}{self.after}"


@dataclass(frozen=True, slots=True)
class Assessment:
    """What was found of a resource and why: one object for every resource alike (a million resources share a few
    thousand)."""

    platform_policy: PlatformPolicy
    egress: Egress
    verdict: Verdict
    rule: str
    reason: str
    advice: str | NicAdvice
    via: str = ""  # the firewall or appliance the traffic leaves through; "" when it leaves directly
    via_policy: ViaPolicy | None = None  # that firewall's platform policy and the rule that gives it
    relay_587: Verdict | None = None  # TCP 587 through the same path: open, denied_by_network or unknown
    path: tuple[PathHop, ...] = ()  # the way out that decided, step by step (scan.json only)


@dataclass(frozen=True, slots=True)
class Finding:
    """A resource, what was found of it (one object for the resources alike) and what is its own. Each column of
    findings.csv is an attribute of the finding, those of the shared parts read through them."""

    resource: Resource
    subscription: SubscriptionLabel
    assessment: Assessment
    nic: str = ""  # the NIC's name its advice names (NicAdvice); "" where the advice names none
    exception: ExceptionMatch | None = None  # the register entry that accepts its verdict (or did, and expired)
    tags: tuple[tuple[str, str], ...] = ()  # the --tag tags it carries (or its resource group does), in that order

    @property
    def tenant_id(self) -> str:
        return self.subscription.tenant_id

    @property
    def subscription_id(self) -> str:
        return self.subscription.subscription_id

    @property
    def subscription_name(self) -> str:
        return self.subscription.subscription_name

    @property
    def offer(self) -> str:
        return self.subscription.offer

    @property
    def quota_id(self) -> str:
        return self.subscription.quota_id

    @property
    def platform_policy(self) -> PlatformPolicy:
        return self.assessment.platform_policy

    @property
    def egress(self) -> Egress:
        return self.assessment.egress

    @property
    def verdict(self) -> Verdict:
        return self.assessment.verdict

    @property
    def rule(self) -> str:
        return self.assessment.rule

    @property
    def reason(self) -> str:
        return self.assessment.reason

    @property
    def remediation(self) -> str:
        advice = self.assessment.advice
        return advice if isinstance(advice, str) else advice.told(self.nic)

    @property
    def via(self) -> str:
        return self.assessment.via

    @property
    def via_policy(self) -> ViaPolicy | None:
        return self.assessment.via_policy

    @property
    def relay_587(self) -> Verdict | None:
        return self.assessment.relay_587

    @property
    def path(self) -> tuple[PathHop, ...]:
        return self.assessment.path

    @property
    def accepted(self) -> bool:
        """Its verdict is accepted by an exception that has not expired: the gates pass it over."""
        return self.exception is not None and self.exception.accepted

    def with_exception(self, match: ExceptionMatch) -> Finding:
        """The finding with the register entry that accepts its verdict (dataclasses.replace costs twice as much,
        and a register may match a hundred thousand findings)."""
        return Finding(self.resource, self.subscription, self.assessment, self.nic, match, self.tags)


@dataclass(frozen=True, slots=True)
class SubscriptionSummary:
    subscription: Subscription
    offer: OfferReading
    vm_policy: PlatformPolicy
    vm_rule: str
    exemption_route: str
    verdict_counts: dict[Verdict, int]
    errors: tuple[CollectionError, ...]
    skipped: str = ""

    @property
    def collection(self) -> str:
        if self.skipped:
            return self.skipped
        if not self.errors:
            return "ok"
        return "; ".join(e.describe() for e in self.errors)


@dataclass(frozen=True, slots=True)
class ConfigProvenance:
    """Which audit config a scan used: it changes verdicts, so a report says which one."""

    path: str
    sha256: str
    subscriptions: int


@dataclass(frozen=True, slots=True)
class ScanMetadata:
    tool_version: str
    ruleset: Ruleset
    started: dt.datetime
    finished: dt.datetime
    source: str
    scope: tuple[str, ...]
    tenant_errors: tuple[CollectionError, ...]
    config: ConfigProvenance | None = None
    portal: str = "https://portal.azure.com"  # the Azure portal of the cloud read, for links
    tag_names: tuple[str, ...] = ()  # --tag: the tags findings.csv's `tags` reports, the first groups the page

    def portal_link(self, resource_id: str, tenant_id: str = "") -> str:
        """The portal page of a resource or subscription (by its id) in the cloud the scan read."""
        tenant = f"@{tenant_id}" if tenant_id else ""
        return f"{self.portal}/#{tenant}/resource{resource_id}" + ("/overview" if resource_id.count("/") == 2 else "")


@dataclass(frozen=True, slots=True)
class PreviousFinding:
    """What a baseline (an earlier scan.json) says of one resource."""

    resource_id: str
    resource_name: str
    resource_type: str
    subscription_id: str
    verdict: Verdict
    exception: ExceptionState | None = None  # what the register said of it then (scan.json from 2026-12 on)


@dataclass(frozen=True, slots=True)
class Baseline:
    source: str
    started: str
    findings: tuple[PreviousFinding, ...]


class ChangeKind(StrEnum):
    NEW = "new"
    REMOVED = "removed"
    NOT_READ = "not_read"  # in the baseline, absent now because its list could not be read: not known removed
    VERDICT_CHANGED = "verdict_changed"
    EXCEPTION_EXPIRED = "exception_expired"  # same verdict, accepted in the baseline, no longer accepted now


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    resource_id: str
    resource_name: str
    resource_type: str
    subscription_id: str
    before: Verdict | None
    after: Verdict | None
    accepted_before: bool = False  # an exception accepted its verdict in the baseline
    accepted_now: bool = False  # an exception accepts its verdict now

    @property
    def is_new_exposure(self) -> bool:
        """Open now, and not before, or accepted before and not now; never while an exception accepts it."""
        if self.after is not Verdict.OPEN or self.accepted_now:
            return False
        return self.before is not Verdict.OPEN or self.accepted_before


@dataclass(frozen=True, slots=True)
class Drift:
    baseline: str
    baseline_started: str
    changes: tuple[Change, ...]

    @property
    def new_exposure(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.is_new_exposure)


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One scheduled run, as kept in the history folder: when, and how many resources were open or unknown."""

    started: str
    open: int
    unknown: int
    resources: int
    complete: bool


@dataclass(frozen=True, slots=True)
class ScanResult:
    metadata: ScanMetadata
    findings: tuple[Finding, ...]
    subscriptions: tuple[SubscriptionSummary, ...]
    drift: Drift | None = None
    trend: tuple[TrendPoint, ...] = ()  # with --history: the kept runs and this one, oldest first
    exceptions: ExceptionsOutcome = field(default_factory=ExceptionsOutcome)

    @property
    def complete(self) -> bool:
        return not self.metadata.tenant_errors and all(not s.errors for s in self.subscriptions)

    @property
    def nothing_audited(self) -> bool:
        """No subscription could be read at all: sign-in failed, the subscription list (or the only management
        group) failed, or it showed none. The CLI then writes no reports and leaves --out as it was."""
        if self.findings:
            return False
        read = [s for s in self.subscriptions if not s.skipped]
        if self.metadata.tenant_errors and all(s.errors for s in read):
            return True
        return not self.subscriptions
