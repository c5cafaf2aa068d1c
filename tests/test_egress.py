"""Issue 3: the network path on top of the platform policy; each case a small recorded tenant read through the SDK."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from auditor.classify.addresses import Match, contains, inside
from auditor.classify.engine import classify
from auditor.collect.arm import ArmCollector
from auditor.collect.replay import ReplayCredential, ReplayTransport, parse_recording
from auditor.model import AuditConfig, Finding, Offer, Ruleset, SubscriptionFacts
from fixtures import arm_payloads as arm

EA = "EnterpriseAgreement_2014-09-01"
PAYG = "PayAsYouGo_2014-09-01"
GROUP = "rg"
VM = "vm-under-test"


def _rules(nsg_id: str, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        arm.security_rule(
            nsg_id, s.pop("name"), s.pop("priority"), s.pop("direction", "Outbound"), s.pop("access"), **s
        )
        for s in (dict(spec) for spec in specs)
    ]


def spoke(
    key: str,
    *,
    nic_rules: list[dict[str, Any]] | None = None,
    subnet_rules: list[dict[str, Any]] | None = None,
    routes: list[tuple[str, str, str, str | None]] | None = None,
    default_outbound: bool | None = None,
    public_ip: bool = False,
    nat: bool = False,
    lb_outbound: bool | None = None,
    prefix: str = "10.1",
    scale_set: bool = False,
    app: bool = False,
    firewall_ip: str | None = None,
    firewall_rules: list[dict[str, Any]] | None = None,
    peers: list[str] | None = None,
) -> dict[str, list[Any] | None]:
    """The lists of one subscription holding one VM (or scale set, or app) in one subnet, as options say.

    With `firewall_ip` it holds an Azure Firewall instead, with classic network rule collections `firewall_rules`
    (by default one that allows TCP 25 from anywhere to anywhere); `peers`: VNet ids its VNet is peered with.
    """
    sub = arm.sub_id(key)
    subnet_id = arm.subnet(sub, GROUP, "vnet", "snet")
    lists: dict[str, list[Any] | None] = {
        "nsgs": [],
        "route_tables": [],
        "public_ips": [],
        "nat_gateways": [],
        "load_balancers": [],
        "nics": [],
        "firewalls": [],
    }
    spec: dict[str, Any] = {"name": "snet", "prefix": f"{prefix}.1.0/24"}
    if default_outbound is not None:
        spec["default_outbound"] = default_outbound
    nic_nsg = None
    if nic_rules is not None:
        nic_nsg = arm.nsg_id(sub, GROUP, "nsg-nic")
        lists["nsgs"].append(arm.nsg(sub, GROUP, "nsg-nic", _rules(nic_nsg, nic_rules)))  # type: ignore[union-attr]
    if subnet_rules is not None:
        spec["nsg"] = arm.nsg_id(sub, GROUP, "nsg-subnet")
        lists["nsgs"].append(arm.nsg(sub, GROUP, "nsg-subnet", _rules(spec["nsg"], subnet_rules)))  # type: ignore[union-attr]
    if routes is not None:
        spec["route_table"] = arm.route_table_id(sub, GROUP, "rt")
        lists["route_tables"] = [arm.route_table(sub, GROUP, "rt", routes)]
    if nat:
        spec["nat_gateway"] = arm.nat_gateway_id(sub, GROUP, "nat")
        lists["nat_gateways"] = [arm.nat_gateway(sub, GROUP, "nat", [])]
    pools: tuple[str, ...] = ()
    if lb_outbound is not None:
        pools = (arm.backend_pool_id(sub, GROUP, "lb", "pool"),)
        lists["load_balancers"] = [
            arm.load_balancer(
                sub, GROUP, "lb", arm.public_ip_id(sub, GROUP, "pip-lb"), "pool", outbound_rule=lb_outbound
            )
        ]
    pip = arm.public_ip_id(sub, GROUP, "pip-vm") if public_ip else None
    if pip:
        lists["public_ips"] = [arm.public_ip(sub, GROUP, "pip-vm", "20.0.0.1")]
    subnets = [spec]
    if firewall_ip:
        subnets.append({"name": "AzureFirewallSubnet", "prefix": f"{prefix}.0.0/26"})
        lists["firewalls"] = [
            arm.firewall(
                sub, GROUP, "fw", "vnet", firewall_ip, policy=None, classic_rules=firewall_rules or ALLOW_SMTP_ANYWHERE
            )
        ]
    lists["vnets"] = [arm.vnet(sub, GROUP, "vnet", f"{prefix}.0.0/16", subnets, peers)]
    if scale_set:
        lists["vmss"] = [arm.vmss(sub, GROUP, VM, subnet_id, public_ip=public_ip, nsg_id=nic_nsg)]
    elif app:
        lists["sites"] = [arm.site(sub, GROUP, VM, vnet_subnet=subnet_id, routing={"applicationTraffic": True})]
    elif firewall_ip is None:
        lists["vms"] = [arm.vm(sub, GROUP, VM)]
        lists["nics"] = [
            arm.nic(
                sub,
                GROUP,
                f"{VM}-nic",
                subnet_id,
                f"{prefix}.1.4",
                public_ip_id=pip,
                nsg_id=nic_nsg,
                backend_pools=pools,
                vm_name=VM,
            )
        ]
    return lists


ALLOW_SMTP_ANYWHERE = [
    {
        "name": "allow-smtp",
        "priority": 100,
        "action": "Allow",
        "rules": [arm.network_rule("smtp-out", ["25"], sources=["*"], policy=False)],
    }
]


def vnet_id(key: str) -> str:
    return arm.rid(arm.sub_id(key), GROUP, "Microsoft.Network/virtualNetworks", "vnet")


def scan(
    subscriptions: dict[str, tuple[str, dict[str, list[Any] | None]]],
    config: AuditConfig | None = None,
    failing: tuple[tuple[str, str], ...] = (),
    children: list[tuple[str, str, list[Any], int]] | None = None,
    extra: list[tuple[str, Any]] | None = None,
) -> dict[str, Finding]:
    """Record the subscriptions, replay them through the SDK, classify; findings by resource name."""
    return {f.resource.name: f for f in scan_all(subscriptions, config, failing, children, extra)}


def scan_all(
    subscriptions: dict[str, tuple[str, dict[str, list[Any] | None]]],
    config: AuditConfig | None = None,
    failing: tuple[tuple[str, str], ...] = (),
    children: list[tuple[str, str, list[Any], int]] | None = None,
    extra: list[tuple[str, Any]] | None = None,
) -> tuple[Finding, ...]:
    """Every finding of the recorded subscriptions, replayed through the SDK and classified."""
    document = recorded(subscriptions, failing, children, extra)
    transport = ReplayTransport(parse_recording(document, "test"))
    inventory = ArmCollector(ReplayCredential(), transport).collect()
    findings, _ = classify(inventory, config or AuditConfig(), Ruleset.CURRENT)
    return findings


def recorded(
    subscriptions: dict[str, tuple[str, dict[str, list[Any] | None]]],
    failing: tuple[tuple[str, str], ...] = (),
    children: list[tuple[str, str, list[Any], int]] | None = None,
    extra: list[tuple[str, Any]] | None = None,
) -> dict[str, Any]:
    """The recording of these subscriptions (each (quota id, lists by key of `arm.LISTS`)).

    `failing`: (subscription key, provider type) lists that answer 403.
    `children`: lists under a resource (parent id, list name, items, HTTP status), e.g. rule collection groups.
    `extra`: more answers, (path, body): a list's items (a path of one of the only subscription's lists, by its
    key in `arm.LISTS`, or a full path), or a single resource's body.
    """
    recording = arm.Recording()
    recording.record(
        "/subscriptions",
        "subscriptions",
        arm.page([arm.subscription(key, key, quota) for key, (quota, _) in subscriptions.items()]),
    )
    for key, (_, lists) in subscriptions.items():
        failed = {
            name
            for sub_key, provider in failing
            if sub_key == key
            for name, (kind, _) in arm.LISTS.items()
            if kind == provider
        }
        recording.record_subscription(arm.sub_id(key), **{**lists, **dict.fromkeys(failed)})
        for name in failed:
            provider, api = arm.LISTS[name]
            recording.record(
                arm.provider_path(arm.sub_id(key), provider),
                api,
                arm.authorization_failed(arm.sub_id(key), f"{provider}/read"),
                status=403,
            )
    for parent, child, items, status in children or ():
        recording.record_children(parent, child, items, status)
    for path, body in extra or ():
        if path in arm.LISTS:
            (key,) = subscriptions
            provider, api = arm.LISTS[path]
            recording.record(arm.provider_path(arm.sub_id(key), provider), api, arm.page(body))
        else:
            recording.record(path, "web", arm.page(body) if isinstance(body, list) else body)
    recording.record_billing([])
    return recording.document()


def one(**options: Any) -> Finding:
    return scan({"ea": (EA, spoke("ea", **options))})[VM]


OUT = "Outbound"
DENY_25 = {"name": "deny-smtp", "priority": 100, "access": "Deny"}
NSG_CASES = [
    # (case, options, egress, verdict, the reason names)
    (
        "default rules only: AllowInternetOutBound",
        {"subnet_rules": []},
        "default_outbound",
        "open",
        "default rule AllowInternetOutBound (priority 65001) allows",
    ),
    (
        "NIC NSG denies a port range 20-30",
        {"nic_rules": [{**DENY_25, "ports": "20-30"}]},
        "default_outbound",
        "denied_by_network",
        "NSG nsg-nic rule deny-smtp (priority 100) denies TCP 25 to the internet (on the NIC)",
    ),
    (
        "subnet NSG denies through destinationPortRanges",
        {"subnet_rules": [{**DENY_25, "ports": ["21", "24-26"]}]},
        "default_outbound",
        "denied_by_network",
        "(on the subnet)",
    ),
    (
        "NIC allows but the subnet denies: both apply",
        {"nic_rules": [{"name": "allow-25", "priority": 100, "access": "Allow"}], "subnet_rules": [{**DENY_25}]},
        "default_outbound",
        "denied_by_network",
        "NSG nsg-subnet rule deny-smtp",
    ),
    (
        "a port range that misses 25",
        {"subnet_rules": [{**DENY_25, "ports": "26-30"}]},
        "default_outbound",
        "open",
        "AllowInternetOutBound",
    ),
    (
        "an inbound-only deny does not matter",
        {"subnet_rules": [{**DENY_25, "direction": "Inbound", "destination": "*", "source": "Internet"}]},
        "default_outbound",
        "open",
        "AllowInternetOutBound",
    ),
    (
        "a UDP-only deny does not matter",
        {"subnet_rules": [{**DENY_25, "protocol": "Udp"}]},
        "default_outbound",
        "open",
        "AllowInternetOutBound",
    ),
    (
        "first match wins: an allow at 100 before a deny at 200",
        {
            "subnet_rules": [
                {"name": "allow-relay", "priority": 100, "access": "Allow"},
                {
                    "name": "deny-all-out",
                    "priority": 200,
                    "access": "Deny",
                    "protocol": "*",
                    "ports": "*",
                    "destination": "*",
                },
            ]
        },
        "default_outbound",
        "open",
        "rule allow-relay (priority 100) allows",
    ),
    (
        "a deny with protocol * and destination *",
        {"subnet_rules": [{**DENY_25, "protocol": "*", "destination": "*"}]},
        "default_outbound",
        "denied_by_network",
        "deny-smtp",
    ),
    (
        "a prefix list that covers public space",
        {"subnet_rules": [{**DENY_25, "destination": ["0.0.0.0/1", "128.0.0.0/1"]}]},
        "default_outbound",
        "denied_by_network",
        "deny-smtp",
    ),
    (
        "a deny to part of public space does not block the internet at large",
        {"subnet_rules": [{**DENY_25, "destination": ["203.0.113.0/24"]}]},
        "default_outbound",
        "open",
        "denies only some public destinations (203.0.113.0/24)",
    ),
    (
        "a deny to a service tag other than Internet is named, not counted",
        {"subnet_rules": [{**DENY_25, "destination": "AzureCloud"}]},
        "default_outbound",
        "open",
        "AzureCloud",
    ),
    (
        "a deny to private space only",
        {"subnet_rules": [{**DENY_25, "destination": "10.0.0.0/8"}]},
        "default_outbound",
        "open",
        "AllowInternetOutBound",
    ),
    (
        "a deny whose source does not hold the VM",
        {"subnet_rules": [{**DENY_25, "source": "192.168.0.0/16"}]},
        "default_outbound",
        "open",
        "AllowInternetOutBound",
    ),
    (
        "a deny whose source holds the VM",
        {"subnet_rules": [{**DENY_25, "source": "10.1.1.0/24"}]},
        "default_outbound",
        "denied_by_network",
        "deny-smtp",
    ),
    (
        "two rules of one priority that disagree",
        {"subnet_rules": [{**DENY_25}, {"name": "allow-25", "priority": 100, "access": "Allow"}]},
        "unknown",
        "unknown",
        "share priority 100",
    ),
]


@pytest.mark.parametrize(("options", "egress", "verdict", "named"), [pytest.param(*c[1:], id=c[0]) for c in NSG_CASES])
def test_nsg_evaluation(options: dict[str, Any], egress: str, verdict: str, named: str) -> None:
    finding = one(**options)
    assert (finding.egress.value, finding.verdict.value) == (egress, verdict)
    assert named in finding.reason


def _asg_deny(**options: Any) -> Finding:
    sub = arm.sub_id("ea")
    lists = spoke("ea", subnet_rules=[], **options)
    group = lists["nsgs"][0]  # type: ignore[index]
    rule = arm.security_rule(group["id"], "deny-asg", 100, OUT, "Deny")
    rule["properties"]["sourceApplicationSecurityGroups"] = [
        {"id": arm.rid(sub, GROUP, "Microsoft.Network/applicationSecurityGroups", "asg-app")}
    ]
    del rule["properties"]["sourceAddressPrefix"]
    group["properties"]["securityRules"] = [rule]
    return scan({"ea": (EA, lists)})[VM]


def test_an_application_security_group_deny_applies_only_to_the_nics_in_it() -> None:
    """Issue 25.8: a NIC's IP configuration lists its application security groups; this VM's lists none, so a
    deny naming asg-app does not apply to it."""
    finding = _asg_deny()
    assert finding.verdict.value == "open" and "AllowInternetOutBound" in finding.reason


def test_an_application_security_group_deny_for_a_sender_whose_groups_are_not_known_is_unknown() -> None:
    """An app sends from its integration subnet, not from a NIC: which ASGs hold it is not known."""
    finding = _asg_deny(app=True)
    assert finding.verdict.value == "unknown" and "deny-asg (priority 100, Deny) may apply" in finding.reason


ROUTE_CASES = [
    (
        "0.0.0.0/0 to None drops the traffic",
        [("blackhole", "0.0.0.0/0", "None", None)],
        "none",
        "denied_by_network",
        "Route blackhole in route table rt sends 0.0.0.0/0 to None",
    ),
    (
        "0.0.0.0/0 to an appliance that is not a firewall",
        [("to-nva", "0.0.0.0/0", "VirtualAppliance", "10.9.9.9")],
        "appliance",
        "unknown",
        "10.9.9.9, which is not the address of an Azure Firewall or NIC known in VNet vnet, its peers or its "
        "Virtual WAN hub",
    ),
    (
        "forced tunnelling to the VPN/ExpressRoute gateway",
        [("to-onprem", "0.0.0.0/0", "VirtualNetworkGateway", None)],
        "on_premises",
        "unknown",
        "forced tunnelling",
    ),
    (
        "0.0.0.0/0 to Internet",
        [("to-internet", "0.0.0.0/0", "Internet", None)],
        "default_outbound",
        "open",
        "default outbound access",
    ),
    (
        "a route for one prefix only leaves the internet route alone",
        [("partner", "198.51.100.0/24", "None", None)],
        "default_outbound",
        "open",
        "default outbound access",
    ),
    (
        "the /1 halves act as a default route",
        [("a", "0.0.0.0/1", "None", None), ("b", "128.0.0.0/1", "None", None)],
        "none",
        "denied_by_network",
        "Route a",
    ),
]


@pytest.mark.parametrize(("routes", "egress", "verdict", "named"), [pytest.param(*c[1:], id=c[0]) for c in ROUTE_CASES])
def test_routes(routes: list[tuple[str, str, str, str | None]], egress: str, verdict: str, named: str) -> None:
    finding = one(routes=routes)
    assert (finding.egress.value, finding.verdict.value) == (egress, verdict)
    assert named in finding.reason


PATH_CASES = [
    (
        "instance-level public IP",
        {"public_ip": True, "default_outbound": False},
        "public_ip",
        "open",
        "pip-vm (20.0.0.1)",
    ),
    (
        "NAT gateway wins over the instance public IP",
        {"public_ip": True, "nat": True},
        "nat_gateway",
        "open",
        "NAT gateway nat",
    ),
    (
        "load balancer outbound rule",
        {"lb_outbound": True, "default_outbound": False},
        "load_balancer",
        "open",
        "load balancer lb",
    ),
    (
        "a load balancer without outbound SNAT gives no path",
        {"lb_outbound": False, "default_outbound": False},
        "none",
        "denied_by_network",
        "No outbound path",
    ),
    ("default outbound access", {}, "default_outbound", "open", "default outbound access"),
    (
        "a private subnet with nothing else",
        {"default_outbound": False},
        "none",
        "denied_by_network",
        "No outbound path",
    ),
]


@pytest.mark.parametrize(("options", "egress", "verdict", "named"), [pytest.param(*c[1:], id=c[0]) for c in PATH_CASES])
def test_outbound_paths(options: dict[str, Any], egress: str, verdict: str, named: str) -> None:
    finding = one(**options)
    assert (finding.egress.value, finding.verdict.value) == (egress, verdict)
    assert named in finding.reason


def test_scale_set_network_profile() -> None:
    denied = one(scale_set=True, nic_rules=[{**DENY_25}])
    assert (denied.egress.value, denied.verdict.value) == ("default_outbound", "denied_by_network")
    assert "nsg-nic rule deny-smtp" in denied.reason
    public = one(scale_set=True, public_ip=True, default_outbound=False)
    assert (public.egress.value, public.verdict.value) == ("public_ip", "open")


def test_vnet_integrated_app_uses_its_subnet() -> None:
    denied = one(app=True, subnet_rules=[{**DENY_25}])
    assert (denied.egress.value, denied.verdict.value) == ("default_outbound", "denied_by_network")
    natted = one(app=True, nat=True)
    assert (natted.egress.value, natted.verdict.value) == ("nat_gateway", "open")


HUB_ROUTE = [("to-hub", "0.0.0.0/0", "VirtualAppliance", "10.200.0.4")]


def test_hub_firewall_in_another_subscription_decides() -> None:
    """docs/design.md §1: traffic a route sends through an Azure Firewall takes the firewall's policy."""
    findings = scan(
        {
            "payg-spoke": (PAYG, spoke("payg-spoke", routes=HUB_ROUTE, peers=[vnet_id("ea-hub")])),
            "ea-hub": (EA, spoke("ea-hub", prefix="10.200", firewall_ip="10.200.0.4")),
        }
    )
    sender = findings[VM]
    assert (sender.platform_policy.value, sender.egress.value, sender.verdict.value) == ("blocked", "firewall", "open")
    # the firewall's subscription by its name, as the reports name subscriptions (issue 27.5); the id is in the path
    assert "Azure Firewall fw (subscription ea-hub)" in sender.reason and arm.sub_id("ea-hub") not in sender.reason
    reverse = scan(
        {
            "ea-spoke": (EA, spoke("ea-spoke", routes=HUB_ROUTE, peers=[vnet_id("payg-hub")])),
            "payg-hub": (PAYG, spoke("payg-hub", prefix="10.200", firewall_ip="10.200.0.4")),
        }
    )[VM]
    assert (reverse.platform_policy.value, reverse.egress.value, reverse.verdict.value) == (
        "not_blocked",
        "firewall",
        "blocked",
    )


def test_the_exemption_does_not_cover_traffic_through_a_firewall() -> None:
    """Seed 002: the exemption covers only VM traffic routed directly to the internet."""
    devtest = "MSDNDevTest_2014-09-01"
    config = AuditConfig({arm.sub_id("lab"): SubscriptionFacts(Offer.ENTERPRISE_DEVTEST, None, dt.date(2025, 2, 1))})
    direct = scan({"lab": (devtest, spoke("lab", public_ip=True))}, config)[VM]
    assert (direct.platform_policy.value, direct.verdict.value) == ("exempted", "open")
    lists = spoke("lab", routes=[("via-fw", "0.0.0.0/0", "VirtualAppliance", "10.1.0.4")])
    lists["firewalls"] = [
        arm.firewall(arm.sub_id("lab"), GROUP, "fw", "vnet", "10.1.0.4", policy=None, classic_rules=ALLOW_SMTP_ANYWHERE)
    ]
    routed = scan({"lab": (devtest, lists)}, config)[VM]
    assert (routed.platform_policy.value, routed.egress.value, routed.verdict.value) == (
        "exempted",
        "firewall",
        "blocked",
    )
    assert "covers only traffic routed directly to the internet" in routed.reason


def test_a_nic_whose_subnet_list_failed_is_unknown_naming_it() -> None:
    findings = scan({"ea": (EA, spoke("ea"))}, failing=(("ea", "Microsoft.Network/virtualNetworks"),))
    finding = findings[VM]
    subnet_id = arm.subnet(arm.sub_id("ea"), GROUP, "vnet", "snet")
    assert (finding.egress.value, finding.verdict.value) == ("unknown", "unknown")
    expected = "the virtualNetworks list of subscription ea could not be read"
    # issue 27.5: the reason names it and its subscription; its id is in the path, the subscription's in the advice
    assert f"Subnet snet of VNet vnet was not collected: {expected}" in finding.reason
    assert finding.remediation.startswith(  # by its name, and its id where the role is assigned
        f"Give the identity read access to the virtualNetworks list of subscription ea (Reader on subscription "
        f"{arm.sub_id('ea')}), then scan again."
    )
    assert finding.path[-1].kind == "missing" and finding.path[-1].id == subnet_id


def test_a_nic_that_was_not_collected_is_unknown_naming_it() -> None:
    findings = scan({"ea": (EA, spoke("ea"))}, failing=(("ea", "Microsoft.Network/networkInterfaces"),))
    nic_id = arm.rid(arm.sub_id("ea"), GROUP, "Microsoft.Network/networkInterfaces", f"{VM}-nic")
    assert findings[VM].verdict.value == "unknown"
    said = f"NIC {VM}-nic was not collected: the networkInterfaces list of subscription"
    assert said in findings[VM].reason and nic_id in {hop.id for hop in findings[VM].path}


def test_a_blocked_platform_stays_blocked_whatever_the_network() -> None:
    finding = scan({"payg": (PAYG, spoke("payg", public_ip=True))})[VM]
    assert (finding.platform_policy.value, finding.egress.value, finding.verdict.value) == (
        "blocked",
        "public_ip",
        "blocked",
    )


@pytest.mark.parametrize("prefixes", [("10.0.0.0/24",), ("10.0.0.0/25", "10.0.0.128/25"), ("AzureCloud",), ()])
@pytest.mark.parametrize(
    "sender",
    [("10.0.0.4",), ("10.0.1.4",), (" 10.0.0.9 ",), ("010.0.0.4",), ("fe80::1",), ("nonsense",), ("10.0.0.0/26",)],
)
def test_inside_answers_as_contains_does(prefixes: tuple[str, ...], sender: tuple[str, ...]) -> None:
    """The address lookup that spares parsing each sender into a network answers as the network comparison."""
    assert inside(prefixes, sender) is (contains(prefixes, sender) is Match.YES)
