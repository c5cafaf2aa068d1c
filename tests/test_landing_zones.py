"""Issue 12: traffic followed to where it really leaves, each case a small recorded tenant read through the SDK.

Azure's documented behaviour each test checks is named in its docstring:
- Azure Firewall, "Rule processing logic": default deny; rules are terminating; network rules before application
  rules; application rules carry HTTP/S and MSSQL only; DNAT rules translate inbound traffic; collections inherited
  from a parent policy come first; then rule collection groups and collections by priority.
- Virtual WAN, "How to configure routing intent": an InternetTraffic policy sends internet traffic of connections
  whose "propagate default route" (enableInternetSecurity) is on to its next hop.
- "Default outbound access in Azure": flexible-orchestration scale sets and their VMs have none; a public IP on
  any NIC of a VM is explicit outbound.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from auditor.model import AuditConfig, Offer, SubscriptionFacts
from fixtures import arm_payloads as arm
from tests.test_egress import EA, GROUP, PAYG, VM, scan, scan_all, spoke, vnet_id

HUB_IP = "10.200.0.4"
TO_HUB = [("to-hub", "0.0.0.0/0", "VirtualAppliance", HUB_IP)]


def classic(name: str, priority: int, action: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "priority": priority, "action": action, "rules": list(rules)}


def rule(name: str, ports: list[str], **options: Any) -> dict[str, Any]:
    return arm.network_rule(name, ports, policy=False, **{"sources": ["*"], **options})


def through_hub(firewall_rules: list[dict[str, Any]], spoke_quota: str = EA, **spoke_options: Any) -> Any:
    """A spoke VM (10.1.1.4) peered with a hub whose classic-rule firewall the spoke's default route names."""
    return scan(
        {
            "spoke": (spoke_quota, spoke("spoke", routes=TO_HUB, peers=[vnet_id("hub")], **spoke_options)),
            "hub": (EA, spoke("hub", prefix="10.200", firewall_ip=HUB_IP, firewall_rules=firewall_rules)),
        }
    )


FIREWALL_CASES = [
    (
        "no rule for TCP 25: default deny",
        [classic("web", 100, "Allow", rule("https", ["443"]))],
        "denied_by_network",
        "Azure Firewall fw denies TCP 25 to the internet by default: no network rule allows it",
    ),
    (
        "an allow for any source, any destination, port 25",
        [classic("mail", 100, "Allow", rule("smtp", ["25"]))],
        "open",
        "collection mail (priority 100, Allow), rule smtp allows TCP 25",
    ),
    (
        "a port range and Any protocol",
        [classic("wide", 100, "Allow", rule("range", ["20-30"], protocols=["Any"]))],
        "open",
        "rule range allows TCP 25",
    ),
    (
        "UDP only does not carry SMTP",
        [classic("udp", 100, "Allow", rule("udp-25", ["25"], protocols=["UDP"]))],
        "denied_by_network",
        "by default",
    ),
    (
        "collections by priority: the deny at 100 wins over the allow at 200, whatever their order in the list",
        [
            classic("allow-all", 200, "Allow", rule("smtp", ["25"])),
            classic("deny-mail", 100, "Deny", rule("no-smtp", ["25"])),
        ],
        "denied_by_network",
        "collection deny-mail (priority 100, Deny), rule no-smtp denies TCP 25",
    ),
    (
        "a source that does not hold the sender does not match",
        [classic("mail", 100, "Allow", rule("smtp", ["25"], sources=["10.9.0.0/16"]))],
        "denied_by_network",
        "by default",
    ),
    (
        "a source range that holds the sender matches",
        [classic("mail", 100, "Allow", rule("smtp", ["25"], sources=["10.1.1.1-10.1.1.9"]))],
        "open",
        "rule smtp allows TCP 25",
    ),
    (
        # issue 25.7: mail to the provider's relay leaves Azure on TCP 25 like any other
        "a destination FQDN is part of the internet: the path is open to it, and the reason names it",
        [
            classic(
                "provider",
                100,
                "Allow",
                rule("to-provider", ["25"], destinations=[], destination_fqdns=["smtp.x.example"]),
            )
        ],
        "open",
        "rule to-provider allows TCP 25 only to smtp.x.example; for the rest of the internet: Azure Firewall",
    ),
    (
        "private destinations alone are not the internet: the default deny decides",
        [classic("onprem", 100, "Allow", rule("to-onprem", ["25"], destinations=["10.0.0.0/8", "192.168.0.0/16"]))],
        "denied_by_network",
        "by default",
    ),
    (
        "destination prefixes that together cover public space count as the internet",
        [classic("halves", 100, "Allow", rule("smtp", ["25"], destinations=["0.0.0.0/1", "128.0.0.0/1"]))],
        "open",
        "rule smtp allows TCP 25",
    ),
]


@pytest.mark.parametrize(
    ("firewall_rules", "verdict", "named"), [c[1:] for c in FIREWALL_CASES], ids=[c[0] for c in FIREWALL_CASES]
)
def test_azure_firewall_network_rules_decide(firewall_rules: list[dict[str, Any]], verdict: str, named: str) -> None:
    """Rule processing logic: Azure Firewall denies all traffic until a rule allows it; rules are terminating."""
    findings = through_hub(firewall_rules)
    sender = findings[VM]
    assert (sender.egress.value, sender.verdict.value) == ("firewall", verdict)
    assert named in sender.reason
    assert sender.via == arm.rid(arm.sub_id("hub"), GROUP, "Microsoft.Network/azureFirewalls", "fw")
    assert str(sender.via_policy) == "not_blocked (CUR-EA-MCAE)"


def test_the_firewalls_own_row_asks_whether_any_sender_gets_out() -> None:
    """A deny for some sources keeps only them in; an allow for some sources lets those out."""
    some_denied = through_hub(
        [
            classic("deny-some", 100, "Deny", rule("no-smtp-lab", ["25"], sources=["10.50.0.0/16"])),
            classic("allow-rest", 200, "Allow", rule("smtp", ["25"], sources=["10.0.0.0/8"])),
        ]
    )["fw"]
    assert some_denied.verdict.value == "open"
    assert "rule smtp allows TCP 25" in some_denied.reason
    none_allowed = through_hub([classic("web", 100, "Allow", rule("https", ["443"]))])["fw"]
    assert none_allowed.verdict.value == "denied_by_network"


def test_the_platform_still_decides_first_through_a_firewall() -> None:
    """docs/design.md §1: through a firewall in a blocked subscription, it is blocked even where rules allow."""
    findings = scan(
        {
            "spoke": (EA, spoke("spoke", routes=TO_HUB, peers=[vnet_id("payg-hub")])),
            "payg-hub": (PAYG, spoke("payg-hub", prefix="10.200", firewall_ip=HUB_IP)),
        }
    )
    assert (findings[VM].verdict.value, str(findings[VM].via_policy)) == ("blocked", "blocked (CUR-OTHER)")


def policy_tenant(*, ip_group_listed: bool = True, groups_status: int = 200) -> dict[str, Any]:
    """A hub firewall with a child policy under a parent policy; the parent denies SMTP from an IP group holding
    the spoke, the child allows SMTP from everywhere."""
    hub = arm.sub_id("hub")
    parent = arm.rid(hub, GROUP, "Microsoft.Network/firewallPolicies", "parent")
    child = arm.rid(hub, GROUP, "Microsoft.Network/firewallPolicies", "child")
    group = arm.rid(hub, GROUP, "Microsoft.Network/ipGroups", "ipg-spokes")
    lists = spoke("hub", prefix="10.200", firewall_ip=HUB_IP)
    lists["firewalls"] = [arm.firewall(hub, GROUP, "fw", "vnet", HUB_IP, policy=child)]
    lists["firewall_policies"] = [
        arm.firewall_policy(hub, GROUP, "parent", ["baseline"]),
        arm.firewall_policy(hub, GROUP, "child", ["egress"], base=parent),
    ]
    lists["ip_groups"] = [arm.ip_group(hub, GROUP, "ipg-spokes", ["10.1.0.0/16"])] if ip_group_listed else []
    recording_extra = [
        (
            parent,
            [
                arm.rule_collection_group(
                    parent,
                    "baseline",
                    500,
                    [
                        {
                            "name": "deny-spokes",
                            "priority": 500,
                            "action": "Deny",
                            "rules": [arm.network_rule("no-smtp", ["25"], source_groups=[group])],
                        }
                    ],
                )
            ],
        ),
        (
            child,
            [
                arm.rule_collection_group(
                    child,
                    "egress",
                    100,
                    [
                        {
                            "name": "dnat",
                            "priority": 100,
                            "action": "Dnat",
                            "type": "FirewallPolicyNatRuleCollection",
                            "rules": [
                                {
                                    "ruleType": "NatRule",
                                    "name": "in",
                                    "ipProtocols": ["TCP"],
                                    "sourceAddresses": ["*"],
                                    "destinationAddresses": ["*"],
                                    "destinationPorts": ["25"],
                                }
                            ],
                        },
                        {
                            "name": "apps",
                            "priority": 100,
                            "action": "Allow",
                            "rules": [
                                {
                                    "ruleType": "ApplicationRule",
                                    "name": "web",
                                    "sourceAddresses": ["*"],
                                    "protocols": [{"protocolType": "Https", "port": 443}],
                                    "targetFqdns": ["*"],
                                }
                            ],
                        },
                        {
                            "name": "allow-all-smtp",
                            "priority": 200,
                            "action": "Allow",
                            "rules": [arm.network_rule("smtp", ["25"], sources=["*"])],
                        },
                    ],
                )
            ],
        ),
    ]
    return {"hub": lists, "children": recording_extra, "groups_status": groups_status}


def scan_policy_tenant(tenant: dict[str, Any] | None = None, **options: Any) -> Any:
    tenant = tenant or policy_tenant(**options)
    children = [
        (parent, "ruleCollectionGroups", items, tenant["groups_status"] if parent.endswith("/child") else 200)
        for parent, items in tenant["children"]
    ]
    return scan(
        {
            "spoke": (EA, spoke("spoke", routes=TO_HUB, peers=[vnet_id("hub")])),
            "hub": (EA, tenant["hub"]),
        },
        children=children,
    )


def test_the_parent_policy_comes_first_and_ip_groups_name_the_sender() -> None:
    """Inherited rule collections take precedence over the child's; an IP group's addresses are the rule's."""
    findings = scan_policy_tenant()
    sender = findings[VM]
    assert (sender.egress.value, sender.verdict.value) == ("firewall", "denied_by_network")
    assert "Firewall policy parent, group baseline, collection deny-spokes (priority 500, Deny), rule no-smtp" in (
        sender.reason
    )
    # the firewall itself: the parent's deny covers only the IP group; the child's allow lets others out
    assert findings["fw"].verdict.value == "open"


def test_an_ip_group_that_was_not_read_makes_the_answer_unknown_naming_it() -> None:
    findings = scan_policy_tenant(ip_group_listed=False)
    group = arm.rid(arm.sub_id("hub"), GROUP, "Microsoft.Network/ipGroups", "ipg-spokes")
    sender = findings[VM]
    assert sender.verdict.value == "unknown"
    assert "IP group ipg-spokes was not collected" in sender.reason and group.endswith("/ipg-spokes")


def test_rule_collection_groups_that_could_not_be_read_make_it_unknown() -> None:
    findings = scan_policy_tenant(groups_status=403)
    child = arm.rid(arm.sub_id("hub"), GROUP, "Microsoft.Network/firewallPolicies", "child")
    assert findings[VM].verdict.value == "unknown"
    assert "the rule collection groups of policy child could not be read" in findings[VM].reason
    assert findings["fw"].verdict.value == "unknown"
    assert child in findings[VM].reason or "policy child" in findings[VM].reason


def test_a_firewall_policy_that_was_not_collected_is_unknown_naming_it() -> None:
    hub = arm.sub_id("hub")
    lists = spoke("hub", prefix="10.200", firewall_ip=HUB_IP)
    lists["firewalls"] = [arm.firewall(hub, GROUP, "fw", "vnet", HUB_IP)]  # names fw-policy, which is not listed
    findings = scan({"spoke": (EA, spoke("spoke", routes=TO_HUB, peers=[vnet_id("hub")])), "hub": (EA, lists)})
    policy = arm.rid(hub, GROUP, "Microsoft.Network/firewallPolicies", "fw-policy")
    assert findings[VM].verdict.value == "unknown"
    assert "Firewall policy fw-policy was not collected" in findings[VM].reason and policy.endswith("/fw-policy")


def test_next_hops_are_found_in_the_senders_network_not_tenant_wide() -> None:
    """Two unrelated hubs with the same firewall address: each spoke leaves through its own hub's firewall."""
    deny = [classic("web", 100, "Allow", rule("https", ["443"]))]
    findings = scan_all(
        {
            "spoke-a": (EA, spoke("spoke-a", routes=TO_HUB, peers=[vnet_id("hub-a")])),
            "hub-a": (EA, spoke("hub-a", prefix="10.200", firewall_ip=HUB_IP, firewall_rules=deny)),
            "spoke-b": (EA, spoke("spoke-b", prefix="10.2", routes=TO_HUB, peers=[vnet_id("hub-b")])),
            "hub-b": (EA, spoke("hub-b", prefix="10.200", firewall_ip=HUB_IP)),
        }
    )
    by_subscription = {f.subscription_id: f for f in findings if f.resource.name == VM}
    a, b = by_subscription[arm.sub_id("spoke-a")], by_subscription[arm.sub_id("spoke-b")]
    assert (a.verdict.value, a.via) == (
        "denied_by_network",
        arm.rid(arm.sub_id("hub-a"), GROUP, "Microsoft.Network/azureFirewalls", "fw"),
    )
    assert (b.verdict.value, b.via) == (
        "open",
        arm.rid(arm.sub_id("hub-b"), GROUP, "Microsoft.Network/azureFirewalls", "fw"),
    )


def test_a_firewall_the_sender_cannot_reach_is_not_taken() -> None:
    findings = scan(
        {
            "spoke": (EA, spoke("spoke", routes=TO_HUB)),  # not peered with the hub
            "hub": (EA, spoke("hub", prefix="10.200", firewall_ip=HUB_IP)),
        }
    )
    sender = findings[VM]
    assert (sender.egress.value, sender.verdict.value) == ("appliance", "unknown")
    assert "Azure Firewall fw has that address in a network the sender's does not reach" in sender.reason


def test_two_reachable_firewalls_with_one_address_are_unknown_naming_both() -> None:
    findings = scan_all(
        {
            "spoke": (EA, spoke("spoke", routes=TO_HUB, peers=[vnet_id("hub-a"), vnet_id("hub-b")])),
            "hub-a": (EA, spoke("hub-a", prefix="10.200", firewall_ip=HUB_IP)),
            "hub-b": (EA, spoke("hub-b", prefix="10.200", firewall_ip=HUB_IP)),
        }
    )
    sender = next(f for f in findings if f.subscription_id == arm.sub_id("spoke"))
    assert sender.verdict.value == "unknown"
    assert "more than one Azure Firewall" in sender.reason
    for hub in ("hub-a", "hub-b"):
        assert arm.rid(arm.sub_id(hub), GROUP, "Microsoft.Network/azureFirewalls", "fw") in sender.reason


def vwan_tenant(
    *, internet_security: bool = True, intent: bool = True, table_route: bool = False, connections_status: int = 200
) -> Any:
    """A spoke VNet connected to a Virtual WAN secured hub; the hub firewall allows TCP 587 only."""
    sub = arm.sub_id("vwan")
    hub_id = arm.rid(sub, GROUP, "Microsoft.Network/virtualHubs", "hub")
    firewall_id = arm.rid(sub, GROUP, "Microsoft.Network/azureFirewalls", "fw-hub")
    policy_id = arm.rid(sub, GROUP, "Microsoft.Network/firewallPolicies", "hub-policy")
    managed = arm.rid("0f0e0d0c-0b0a-4909-8807-060504030201", "rg", "Microsoft.Network/virtualNetworks", "HV_hub")
    lists = spoke("vwan", peers=[managed])
    lists["firewalls"] = [arm.hub_firewall(sub, GROUP, "fw-hub", hub_id, "10.100.64.4", policy_id)]
    lists["firewall_policies"] = [arm.firewall_policy(sub, GROUP, "hub-policy", ["egress"])]
    lists["virtual_hubs"] = [arm.virtual_hub(sub, GROUP, "hub", "wan", "10.100.0.0/23", firewall_id)]
    groups = [
        arm.rule_collection_group(
            policy_id,
            "egress",
            100,
            [
                {
                    "name": "submission",
                    "priority": 100,
                    "action": "Allow",
                    "rules": [arm.network_rule("587", ["587"], sources=["10.1.0.0/16"])],
                }
            ],
        )
    ]
    children = [
        (policy_id, "ruleCollectionGroups", groups, 200),
        (
            hub_id,
            "hubVirtualNetworkConnections",
            [arm.hub_connection(hub_id, "conn", vnet_id("vwan"), internet_security=internet_security)],
            connections_status,
        ),
        (hub_id, "routingIntent", [arm.routing_intent(hub_id, "intent", firewall_id, None)] if intent else [], 200),
        (
            hub_id,
            "hubRouteTables",
            [
                arm.hub_route_table(
                    hub_id, "defaultRouteTable", [("default", ["0.0.0.0/0"], firewall_id)] if table_route else []
                )
            ],
            200,
        ),
    ]
    return scan({"vwan": (EA, lists)}, children=children)


def test_a_spoke_with_internet_security_leaves_through_the_secured_hubs_firewall() -> None:
    """Routing intent: internet traffic of a connection that propagates the default route goes to its next hop."""
    findings = vwan_tenant()
    sender = findings[VM]
    assert (sender.egress.value, sender.verdict.value, sender.relay_587.value if sender.relay_587 else "") == (
        "firewall",
        "denied_by_network",
        "open",
    )
    assert "connected to Virtual WAN hub hub with internet security; its routing intent sends internet traffic" in (
        sender.reason
    )
    assert sender.via.endswith("/azureFirewalls/fw-hub")


def test_a_hub_route_table_default_route_to_the_firewall_does_the_same() -> None:
    sender = vwan_tenant(intent=False, table_route=True)[VM]
    assert (sender.egress.value, sender.verdict.value) == ("firewall", "denied_by_network")
    assert "route table defaultRouteTable sends 0.0.0.0/0 to" in sender.reason


def test_a_connection_without_internet_security_leaves_directly() -> None:
    sender = vwan_tenant(internet_security=False)[VM]
    assert (sender.egress.value, sender.verdict.value, sender.via) == ("default_outbound", "open", "")


def test_hub_connections_that_could_not_be_read_leave_a_peered_spoke_unknown() -> None:
    sender = vwan_tenant(connections_status=403)[VM]
    assert sender.verdict.value == "unknown"
    assert "which may be a Virtual WAN hub whose connections could not be read" in sender.reason


def flexible(**vm_options: Any) -> dict[str, Any]:
    sub = arm.sub_id("flex")
    lists = spoke("flex")
    lists["vms"] = [arm.vm(sub, GROUP, VM, scale_set="flex-set", **vm_options)]
    lists["vmss"] = [
        arm.vmss(sub, GROUP, "flex-set", None, flexible=True),
        arm.vmss(sub, GROUP, "flex-with-profile", arm.subnet(sub, GROUP, "vnet", "snet"), flexible=True),
    ]
    return lists


def test_flexible_scale_sets_and_their_vms_have_no_default_outbound_access() -> None:
    """Default outbound access in Azure: none for flexible-orchestration scale sets or the VMs in them."""
    findings = scan({"flex": (EA, flexible())})
    member = findings[VM]
    assert (member.egress.value, member.verdict.value) == ("none", "denied_by_network")
    assert "no default outbound access to flexible-orchestration scale sets" in member.reason
    assert (findings["flex-with-profile"].egress.value, findings["flex-with-profile"].verdict.value) == (
        "none",
        "denied_by_network",
    )
    # the set without a VM profile only groups VMs, which are findings of their own: no spurious unknown row
    assert "flex-set" not in findings


def test_a_public_ip_on_any_nic_is_explicit_outbound() -> None:
    """A VM is open if any NIC's path is open (the reason names it); denied only when all are."""
    sub = arm.sub_id("dual")
    lists = spoke("dual", default_outbound=False)
    subnet_id = arm.subnet(sub, GROUP, "vnet", "snet")
    lists["vms"] = [arm.vm(sub, GROUP, VM, nics=("nic-a", "nic-b"))]
    lists["public_ips"] = [arm.public_ip(sub, GROUP, "pip-b", "20.0.0.9")]
    lists["nics"] = [
        arm.nic(sub, GROUP, "nic-a", subnet_id, "10.1.1.4", vm_name=VM),
        arm.nic(
            sub,
            GROUP,
            "nic-b",
            subnet_id,
            "10.1.1.5",
            vm_name=VM,
            primary=False,
            public_ip_id=arm.public_ip_id(sub, GROUP, "pip-b"),
        ),
    ]
    finding = scan({"dual": (EA, lists)})[VM]
    assert (finding.egress.value, finding.verdict.value) == ("public_ip", "open")
    assert "NIC nic-b (ipconfig1): Outbound through public IP pip-b (20.0.0.9)" in finding.reason
    lists["nics"][1] = arm.nic(sub, GROUP, "nic-b", subnet_id, "10.1.1.5", vm_name=VM, primary=False)
    lists["public_ips"] = []
    closed = scan({"dual": (EA, lists)})[VM]
    assert (closed.egress.value, closed.verdict.value) == ("none", "denied_by_network")


@pytest.mark.parametrize(
    ("created", "said"),
    [
        ("2025-06-02T09:14:27.1234567+00:00", "created 2025-06-02, after the exemption: it is exempt"),
        (
            "2024-11-05T10:02:11Z",
            "created 2024-11-05, before the exemption: it is exempt only if it was stopped, deallocated and restarted "
            "since 2025-02-01",
        ),
    ],
)
def test_the_exemption_takes_effect_after_a_stop_and_start(created: str, said: str) -> None:
    """Current edition: after the exemption and a stop and start of the VMs, all VMs of the subscription are exempt."""
    sub = arm.sub_id("lab")
    config = AuditConfig({sub: SubscriptionFacts(Offer.ENTERPRISE_DEVTEST, None, dt.date(2025, 2, 1))})
    lists = spoke("lab", public_ip=True)
    lists["vms"] = [arm.vm(sub, GROUP, VM, created=created)]
    finding = scan({"lab": ("MSDNDevTest_2014-09-01", lists)}, config)[VM]
    assert (finding.platform_policy.value, finding.verdict.value) == ("exempted", "open")
    assert said in finding.reason
    assert ("Stop, deallocate and then restart" in finding.remediation) is ("before" in said)


def test_relay_587_is_checked_through_the_same_path() -> None:
    """The remediation's relay on TCP 587 is evaluated, not assumed: here an NSG denies it."""
    finding = scan(
        {
            "ea": (
                EA,
                spoke("ea", subnet_rules=[{"name": "deny-587", "priority": 100, "access": "Deny", "ports": "587"}]),
            )
        }
    )[VM]
    assert (finding.verdict.value, finding.relay_587.value if finding.relay_587 else "") == (
        "open",
        "denied_by_network",
    )


def test_a_slot_is_a_finding_of_its_own_with_its_own_config_web() -> None:
    """Deployment slots: the slot's own VNet integration and routing decide; a slot whose payload does not say
    how it routes is read from the slot's own config/web (not the site's)."""
    sub = arm.sub_id("slots")
    lists = spoke("slots", app=True)
    subnet_id = arm.subnet(sub, GROUP, "vnet", "snet")
    quiet = arm.slot(sub, GROUP, VM, "staging", vnet_subnet=subnet_id)  # no routing flag in its payload
    site_id = arm.rid(sub, GROUP, "Microsoft.Web/sites", VM)
    config = {"id": f"{site_id}/slots/staging/config/web", "properties": {"vnetRouteAllEnabled": True}}
    findings = scan(
        {"slots": (EA, {**lists, "sites": None})},
        children=[],
        extra=[
            ("sites", [arm.site(sub, GROUP, VM, vnet_subnet=subnet_id, routing={"applicationTraffic": False})]),
            (f"{site_id}/slots", [quiet]),
            (f"{site_id}/slots/staging/config/web", config),
            (f"{site_id}/config/web", {"id": f"{site_id}/config/web", "properties": {"vnetRouteAllEnabled": False}}),
        ],
    )
    slot = findings[f"{VM}/staging"]
    assert (slot.resource.resource_type, slot.platform_policy.value, slot.verdict.value) == (
        "Microsoft.Web/sites/slots",
        "not_blocked",
        "open",
    )
    assert "(regional VNet integration)." in slot.reason and "disagree" not in slot.reason
    assert ("its config/web's vnetRouteAllEnabled", True) in slot.resource.app.routing_flags
    site = findings[VM]
    assert (site.platform_policy.value, site.rule) == ("not_supported", "CUR-APP-NOPATH")
    assert "its setting to route outbound traffic into the VNet is off" in site.reason
    assert ("its config/web's vnetRouteAllEnabled", False) in site.resource.app.routing_flags


def test_where_the_payload_and_config_web_disagree_the_reading_with_more_exposure_stands_and_is_said() -> None:
    sub = arm.sub_id("disagree")
    subnet_id = arm.subnet(sub, GROUP, "vnet", "snet")
    site_id = arm.rid(sub, GROUP, "Microsoft.Web/sites", VM)
    findings = scan(
        {"disagree": (EA, {**spoke("disagree", app=True), "sites": None})},
        extra=[
            ("sites", [arm.site(sub, GROUP, VM, vnet_subnet=subnet_id, routing={"allTraffic": False})]),
            (f"{site_id}/slots", []),
            (f"{site_id}/config/web", {"id": f"{site_id}/config/web", "properties": {"vnetRouteAllEnabled": True}}),
        ],
    )
    app = findings[VM]
    assert (app.platform_policy.value, app.verdict.value) == ("not_blocked", "open")
    assert "its settings disagree, and routed is the reading with more exposure" in app.reason


def test_all_traffic_routed_is_no_disagreement_with_application_traffic_off() -> None:
    """allTraffic routes the application's traffic too: applicationTraffic false beside it is not a conflict."""
    sub = arm.sub_id("all")
    subnet_id = arm.subnet(sub, GROUP, "vnet", "snet")
    findings = scan(
        {"all": (EA, {**spoke("all", app=True), "sites": None})},
        extra=[
            ("sites", [arm.site(sub, GROUP, VM, vnet_subnet=subnet_id, routing={"allTraffic": True})]),
            (f"{arm.rid(sub, GROUP, 'Microsoft.Web/sites', VM)}/slots", []),
        ],
    )
    app = findings[VM]
    assert (app.platform_policy.value, app.verdict.value) == ("not_blocked", "open")
    assert "(regional VNet integration)." in app.reason and "disagree" not in app.reason


def test_an_inventory_keeps_one_copy_of_the_text_its_objects_repeat() -> None:
    """Issue 28.1 (memory): each answer's parser makes its own copy of every text, so a replayed landing zone's
    inventory held each NIC's subnet id, each VM's NIC id (and the NIC's own), location, group and tags once per
    object: 65% of its text, about 0.8 GB at a million VMs. Collect keeps one copy of each."""
    from auditor.collect.arm import ArmCollector
    from auditor.collect.replay import ReplayCredential, ReplayTransport, parse_recording

    document = arm.landing_zone_subscriptions("lz", 2, 3)
    inventory = ArmCollector(ReplayCredential(), ReplayTransport(parse_recording(document, "test"))).collect()
    machines = [r for item in inventory.subscriptions for r in item.resources if r.nic_ids]
    interfaces = {n.nic_id.lower(): n for item in inventory.subscriptions for n in item.network.interfaces}
    assert len(machines) >= 6 and len(interfaces) >= 6
    for machine in machines:  # the VM's reference and the NIC's own id: one object
        assert machine.nic_ids[0] is interfaces[machine.nic_ids[0].lower()].nic_id
    by_subnet: dict[str, list[str]] = {}
    for interface in interfaces.values():
        for configuration in interface.ip_configurations:
            assert configuration.subnet_id is not None
            by_subnet.setdefault(configuration.subnet_id.lower(), []).append(configuration.subnet_id)
    assert any(len(ids) > 1 for ids in by_subnet.values())
    assert all(len({id(text) for text in ids}) == 1 for ids in by_subnet.values())  # one object a subnet
    for texts in ([m.location for m in machines], [m.resource_group for m in machines]):
        for text in set(texts):
            assert len({id(t) for t in texts if t == text}) == 1, text
