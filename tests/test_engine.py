"""Issue 15.7: the engine over model objects, no recording: which rule applies to which resource, how the platform
and the network combine (docs/design.md §1), which of several paths speaks, and what a subscription's summary counts."""

from __future__ import annotations

import datetime as dt
import gc
import random
from dataclasses import replace

import pytest

from auditor.classify.engine import Classifier, classify
from auditor.classify.network import sharing
from auditor.classify.network.firewall_rules import FirewallRules
from auditor.model import (
    AuditConfig,
    CollectionError,
    Egress,
    Finding,
    FirewallNetworking,
    FirewallPolicy,
    IpConfiguration,
    NetworkInterface,
    NetworkInventory,
    NetworkRule,
    NetworkRuleCollection,
    NetworkSecurityGroup,
    PlatformPolicy,
    PublicIpAddress,
    Resource,
    ResourceCategory,
    Route,
    RouteTable,
    RuleCollectionGroup,
    Ruleset,
    SecurityRule,
    Subnet,
    Subscription,
    SubscriptionFacts,
    SubscriptionInventory,
    TenantInventory,
    Verdict,
    VirtualNetwork,
)

SUB = "11111111-1111-1111-1111-111111111111"
GROUP = f"/subscriptions/{SUB}/resourceGroups/rg"
SUBNET = f"{GROUP}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default"
PAYG = "PayAsYouGo_2014-09-01"
EA = "EnterpriseAgreement_2014-09-01"


def _vm(name: str, *nics: str, created: dt.datetime | None = None) -> Resource:
    return Resource(
        f"{GROUP}/providers/Microsoft.Compute/virtualMachines/{name}",
        name,
        "Microsoft.Compute/virtualMachines",
        "",
        "westeurope",
        "rg",
        SUB,
        ResourceCategory.VIRTUAL_MACHINE,
        nic_ids=tuple(f"{GROUP}/providers/Microsoft.Network/networkInterfaces/{nic}" for nic in nics),
        created=created,
    )


def _nic(name: str, public: bool, nsg: str | None = None) -> NetworkInterface:
    pip = f"{GROUP}/providers/Microsoft.Network/publicIPAddresses/{name}-ip" if public else None
    configuration = IpConfiguration("ipconfig1", True, SUBNET, "10.0.0.4", pip, public)
    nsg_id = f"{GROUP}/providers/Microsoft.Network/networkSecurityGroups/{nsg}" if nsg else None
    return NetworkInterface(
        f"{GROUP}/providers/Microsoft.Network/networkInterfaces/{name}", name, True, nsg_id, (configuration,)
    )


def _deny_25(name: str) -> NetworkSecurityGroup:
    rule = SecurityRule("deny-smtp", 100, "Outbound", "Deny", "Tcp", ("*",), ("Internet",), ("25",))
    return NetworkSecurityGroup(f"{GROUP}/providers/Microsoft.Network/networkSecurityGroups/{name}", name, (rule,))


def _tenant(quota_id: str | None, *resources: Resource, **network: object) -> TenantInventory:
    nics = network.get("nics", ())
    assert isinstance(nics, tuple)
    public_ips = tuple(
        PublicIpAddress(c.public_ip_id, c.public_ip_id.rsplit("/", 1)[-1], "20.0.0.1")
        for nic in nics
        for c in nic.ip_configurations
        if c.public_ip_id
    )
    inventory = NetworkInventory(
        interfaces=nics,
        public_ips=public_ips,
        security_groups=network.get("nsgs", ()),  # type: ignore[arg-type]
        subnets=(Subnet(SUBNET, "default", ("10.0.0.0/24",)),),
    )
    subscription = Subscription(SUB, "one", "Enabled", "tenant", quota_id)
    return TenantInventory((SubscriptionInventory(subscription, resources, network=inventory),))


def _one(findings: tuple[Finding, ...]) -> Finding:
    (finding,) = findings
    return finding


def test_the_platform_decides_before_the_network() -> None:
    """Current edition, "All other subscription types": "The Azure platform blocks outbound SMTP connections on TCP
    port 25 for deployed VMs." A Pay-As-You-Go VM with a public IP and no NSG is blocked, not open."""
    findings, _ = classify(_tenant(PAYG, _vm("vm", "nic"), nics=(_nic("nic", True),)), AuditConfig(), Ruleset.CURRENT)

    finding = _one(findings)
    assert (finding.platform_policy, finding.verdict, finding.rule) == (
        PlatformPolicy.BLOCKED,
        Verdict.BLOCKED,
        "CUR-OTHER",
    )
    assert finding.egress is Egress.PUBLIC_IP  # the path is still described


def test_where_the_platform_lets_port_25_out_the_network_decides() -> None:
    """Current edition, "Enterprise and MCA-E": "outbound SMTP connections on TCP port 25 are not blocked". The
    same VM is open with no NSG, and denied by the network behind an NSG that denies TCP 25 outbound."""
    open_findings, _ = classify(
        _tenant(EA, _vm("vm", "nic"), nics=(_nic("nic", True),)), AuditConfig(), Ruleset.CURRENT
    )
    closed_findings, _ = classify(
        _tenant(EA, _vm("vm", "nic"), nics=(_nic("nic", True, "nsg"),), nsgs=(_deny_25("nsg"),)),
        AuditConfig(),
        Ruleset.CURRENT,
    )

    assert (_one(open_findings).verdict, _one(open_findings).rule) == (Verdict.OPEN, "CUR-EA-MCAE")
    closed = _one(closed_findings)
    assert (closed.platform_policy, closed.verdict) == (PlatformPolicy.NOT_BLOCKED, Verdict.DENIED_BY_NETWORK)
    assert "deny-smtp" in closed.reason


def test_a_vm_finds_its_nic_whatever_the_case_of_the_id() -> None:
    """ARM ids are case-insensitive, and Azure spells a resource group differently in a VM's NIC reference and in
    the NIC's own id: the NIC is found either way, so the NSG that denies TCP 25 decides."""
    vm = _vm("vm", "nic")
    shouting = replace(
        vm, nic_ids=tuple(nic_id.replace("/resourceGroups/rg/", "/resourceGroups/RG/") for nic_id in vm.nic_ids)
    )
    tenant = _tenant(EA, shouting, nics=(_nic("nic", True, "nsg"),), nsgs=(_deny_25("nsg"),))

    finding = _one(classify(tenant, AuditConfig(), Ruleset.CURRENT)[0])

    assert (finding.verdict, finding.egress) == (Verdict.DENIED_BY_NETWORK, Egress.PUBLIC_IP)
    assert "was not collected" not in finding.reason


def test_the_most_exposed_path_speaks_for_a_vm_with_several_nics() -> None:
    """A VM is denied only when every path is: one NIC behind the NSG, one without, and the VM is open, named by
    the open NIC."""
    tenant = _tenant(
        EA, _vm("vm", "closed", "open"), nics=(_nic("closed", True, "nsg"), _nic("open", True)), nsgs=(_deny_25("nsg"),)
    )
    finding = _one(classify(tenant, AuditConfig(), Ruleset.CURRENT)[0])

    assert finding.verdict is Verdict.OPEN
    assert "open" in finding.reason


def test_an_exempted_subscription_s_vm_created_after_the_exemption_needs_nothing() -> None:
    """Current edition, "Enterprise and MCA-E": "After the subscription is exempted from this block and the VMs are
    stopped and restarted, all VMs in that subscription are exempt." A VM created after the exemption was never
    running before it: nothing to restart."""
    granted = dt.date(2026, 3, 1)
    config = AuditConfig({SUB: SubscriptionFacts(exemption_granted=granted)})
    later = _vm("later", "nic", created=dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    earlier = _vm("earlier", "nic2", created=dt.datetime(2025, 5, 1, tzinfo=dt.UTC))
    tenant = _tenant(PAYG, later, earlier, nics=(_nic("nic", True), _nic("nic2", True)))

    findings = {f.resource.name: f for f in classify(tenant, config, Ruleset.CURRENT)[0]}

    assert {f.rule for f in findings.values()} == {"CUR-EXEMPTED"}
    assert "Nothing to request: the VM was created after the exemption" in findings["later"].remediation
    assert "Stop, deallocate and then restart the VM" in findings["earlier"].remediation
    assert "Nothing to request" not in findings["earlier"].remediation


def test_a_flexible_scale_set_without_a_vm_profile_is_not_a_finding_of_its_own() -> None:
    """It only groups VMs, which are findings themselves (issue 12: one finding, not two)."""
    container = Resource(
        f"{GROUP}/providers/Microsoft.Compute/virtualMachineScaleSets/flex",
        "flex",
        "Microsoft.Compute/virtualMachineScaleSets",
        "",
        "westeurope",
        "rg",
        SUB,
        ResourceCategory.SCALE_SET,
        flexible=True,
    )
    findings, _ = classify(
        _tenant(EA, container, _vm("vm", "nic"), nics=(_nic("nic", True),)), AuditConfig(), Ruleset.CURRENT
    )

    assert [f.resource.name for f in findings] == ["vm"]


def test_summaries_count_each_verdict_and_keep_a_subscription_that_could_not_be_read() -> None:
    tenant = _tenant(EA, _vm("a", "nic"), _vm("b", "nic2"), nics=(_nic("nic", True), _nic("nic2", True, "nsg")),
                     nsgs=(_deny_25("nsg"),))  # fmt: skip
    error = CollectionError("virtualMachines", "GET /subscriptions/x/...", "forbidden", 403, "AuthorizationFailed")
    unread = SubscriptionInventory(Subscription("22222222-2222-2222-2222-222222222222", "", "Unknown", "", None),
                                   errors=(error,))  # fmt: skip
    tenant = TenantInventory((*tenant.subscriptions, unread))

    _, summaries = classify(tenant, AuditConfig(), Ruleset.CURRENT)

    first, second = summaries
    assert first.verdict_counts[Verdict.OPEN] == 1 and first.verdict_counts[Verdict.DENIED_BY_NETWORK] == 1
    assert sum(first.verdict_counts.values()) == 2 and first.vm_rule == "CUR-EA-MCAE"
    assert second.errors == (error,) and sum(second.verdict_counts.values()) == 0
    assert second.vm_policy is PlatformPolicy.UNKNOWN  # no quotaId, no config: the type is not known


def test_the_2020_edition_needs_the_creation_date_for_pay_as_you_go() -> None:
    """2020 edition, introduction: "This change in behavior applies only to new subscriptions and new deployments
    since November 15, 2017." Without `created`, the rule cannot be told; with it, the Pay-As-You-Go rule."""
    tenant = _tenant(PAYG, _vm("vm", "nic"), nics=(_nic("nic", True),))
    unknown = _one(classify(tenant, AuditConfig(), Ruleset.EDITION_2020)[0])
    dated = AuditConfig({SUB: SubscriptionFacts(created=dt.date(2019, 1, 1))})
    known = _one(classify(tenant, dated, Ruleset.EDITION_2020)[0])

    assert (unknown.rule, unknown.verdict) == ("2020-DATE-UNKNOWN", Verdict.UNKNOWN)
    assert (known.rule, known.verdict) == ("2020-PAYG", Verdict.BLOCKED)


def _behind_hub_firewall(
    smtp_sources: tuple[str, ...], senders: tuple[tuple[str, str], ...] = (("a", "10.0.0.4"), ("b", "10.0.0.5"))
) -> TenantInventory:
    """A spoke whose subnet (10.0.0.0/24) routes 0.0.0.0/0 to a hub Azure Firewall (EA hub) whose one rule allows
    TCP 25 from `smtp_sources`; a VM for each sender (name, address), by default a at 10.0.0.4 and b at 10.0.0.5."""
    hub = "22222222-2222-2222-2222-222222222222"
    hub_group = f"/subscriptions/{hub}/resourceGroups/hub/providers/Microsoft.Network"
    hub_vnet, spoke_vnet = f"{hub_group}/virtualNetworks/hub", SUBNET.rsplit("/subnets/", 1)[0]
    policy_id = f"{hub_group}/firewallPolicies/policy"
    rule = NetworkRule("smtp", ("TCP",), smtp_sources, destination_addresses=("*",), destination_ports=("25",))
    group = RuleCollectionGroup(
        f"{policy_id}/ruleCollectionGroups/g", "g", 100, (NetworkRuleCollection("out", 100, "Allow", (rule,)),)
    )
    networking = FirewallNetworking(("10.255.0.4",), True, f"{hub_vnet}/subnets/AzureFirewallSubnet", None, policy_id)
    firewall = Resource(
        f"{hub_group}/azureFirewalls/fw", "fw", "Microsoft.Network/azureFirewalls", "", "westeurope", "hub", hub,
        ResourceCategory.FIREWALL, firewall=networking,
    )  # fmt: skip
    table_id = f"{GROUP}/providers/Microsoft.Network/routeTables/to-hub"
    nics = tuple(
        NetworkInterface(
            f"{GROUP}/providers/Microsoft.Network/networkInterfaces/{name}", name, True, None,
            (IpConfiguration("ipconfig1", True, SUBNET, address),),
        )
        for name, address in ((f"nic-{vm}", address) for vm, address in senders)
    )  # fmt: skip
    spoke = NetworkInventory(
        interfaces=nics,
        subnets=(Subnet(SUBNET, "default", ("10.0.0.0/24",), route_table_id=table_id),),
        route_tables=(RouteTable(table_id, "to-hub", (Route("fw", "0.0.0.0/0", "VirtualAppliance", "10.255.0.4"),)),),
        virtual_networks=(VirtualNetwork(spoke_vnet, "spoke", ("10.0.0.0/16",), (hub_vnet,)),),
    )  # fmt: skip
    hub_network = NetworkInventory(
        subnets=(Subnet(f"{hub_vnet}/subnets/AzureFirewallSubnet", "AzureFirewallSubnet", ("10.255.0.0/26",)),),
        virtual_networks=(VirtualNetwork(hub_vnet, "hub", ("10.255.0.0/16",), (spoke_vnet,)),),
        firewall_policies=(FirewallPolicy(policy_id, "policy", None, (group,)),),
    )
    return TenantInventory(
        (
            SubscriptionInventory(
                Subscription(SUB, "spoke", "Enabled", "tenant", PAYG),
                tuple(_vm(vm, f"nic-{vm}") for vm, _ in senders),
                network=spoke,
            ),
            SubscriptionInventory(Subscription(hub, "hub", "Enabled", "tenant", EA), (firewall,), network=hub_network),
        )
    )


def test_a_hub_firewall_rule_naming_one_sender_decides_for_that_sender_only() -> None:
    """Azure Firewall denies all traffic until a rule allows it (Azure Firewall, "Rule processing logic"), and the
    routed traffic takes the firewall's platform policy (EA: "not blocked"). A rule allowing TCP 25 from 10.0.0.4
    only opens that VM; its neighbour is denied by the firewall. A rule for any source opens both: one decision
    serves every sender."""
    one, _ = classify(_behind_hub_firewall(("10.0.0.4",)), AuditConfig(), Ruleset.CURRENT)
    every, _ = classify(_behind_hub_firewall(("*",)), AuditConfig(), Ruleset.CURRENT)

    by_name = {f.resource.name: f for f in one}
    assert (by_name["a"].verdict, by_name["a"].egress) == (Verdict.OPEN, Egress.FIREWALL)
    assert (by_name["b"].verdict, by_name["b"].egress) == (Verdict.DENIED_BY_NETWORK, Egress.FIREWALL)
    assert (
        "rule smtp allows TCP 25" in by_name["a"].reason
        and "denies TCP 25 to the internet by default" in by_name["b"].reason
    )
    assert [(f.resource.name, f.verdict) for f in every if f.resource.name in "ab"] == [
        ("a", Verdict.OPEN),
        ("b", Verdict.OPEN),
    ]


def test_classify_holds_the_garbage_collector_off_while_it_runs_and_only_then(monkeypatch: pytest.MonkeyPatch) -> None:
    """classify makes no reference cycles (below), so the collector's passes over its new findings are held off
    while it runs; afterwards the collector is as it was, nothing is frozen, and what classify made is in the
    oldest generation, not counted as new objects for the next pass to walk."""
    assert gc.isenabled() and gc.get_freeze_count() == 0
    seen: list[bool] = []
    original = Classifier.findings

    def findings_while_held_off(self: Classifier) -> tuple[Finding, ...]:
        seen.append(gc.isenabled())
        return original(self)

    monkeypatch.setattr(Classifier, "findings", findings_while_held_off)
    tenant = _tenant(EA, *(_vm(f"vm{i}", f"nic{i}") for i in range(2000)), nics=(_nic("nic0", True),))
    findings, _ = classify(tenant, AuditConfig(), Ruleset.CURRENT)
    young = gc.get_count()[0]

    assert len(findings) == 2000 and young < 100  # 2,000 findings made, none of them counted as new
    assert seen == [False]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()  # a caller that holds the collector off itself gets it back off
    try:
        classify(tenant, AuditConfig(), Ruleset.CURRENT)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize("tenant", ["contoso", "behind_hub_firewall"])
def test_classify_leaves_nothing_for_the_garbage_collector(tenant: str) -> None:
    """Issue 28.1 (memory): what classify makes and does not return is freed as soon as it returns. The evaluator,
    its router and the network index each kept a bound method of their own, so each was a reference cycle, with
    the inventory the index holds: freed only by a full pass of the garbage collector, which `write_scan`'s
    gc.freeze then put off for all the reports (0.3 GB more at a million VMs)."""
    if tenant == "contoso":
        from auditor.collect.factory import build_collector
        from auditor.collect.recipe import CollectorRecipe
        from tests.conftest import CONTOSO

        inventory = build_collector(CollectorRecipe(replay=CONTOSO), 1).collect()
    else:
        inventory = _behind_hub_firewall(("*",))
    gc.collect()
    gc.disable()
    try:
        findings, _ = classify(inventory, AuditConfig(), Ruleset.CURRENT)
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert findings


def _plain_nic(name: str, address: str, nsg: str | None = None) -> NetworkInterface:
    nsg_id = f"{GROUP}/providers/Microsoft.Network/networkSecurityGroups/{nsg}" if nsg else None
    return NetworkInterface(
        f"{GROUP}/providers/Microsoft.Network/networkInterfaces/{name}",
        name,
        True,
        nsg_id,
        (IpConfiguration("ipconfig1", True, SUBNET, address),),
    )


@pytest.mark.parametrize("inventory", ["one_subnet", "behind_hub_firewall"])
def test_vms_alike_are_found_as_each_would_be_alone(inventory: str) -> None:
    """VMs sharing a subscription and a subnet's paths share most of their finding; each is still found as it
    would be alone. Current edition, "Enterprise and MCA-E": "outbound SMTP connections on TCP port 25 are not
    blocked", so the open VMs' advice says where to close TCP 25, which names each VM's own NIC."""
    if inventory == "one_subnet":
        tenant = _tenant(
            EA,
            _vm("a", "nic-a"),
            _vm("b", "nic-b"),
            _vm("c", "nic-c"),
            _vm("d", "nic-d"),
            nics=(
                _plain_nic("nic-a", "10.0.0.4"),
                _plain_nic("nic-b", "10.0.0.5"),
                _plain_nic("nic-c", "10.0.0.6", "nsg"),
                _plain_nic("nic-d", "10.0.0.7", "nsg"),
            ),
            nsgs=(_deny_25("nsg"),),
        )
    else:
        tenant = _behind_hub_firewall(("*",))
    findings, _ = classify(tenant, AuditConfig(), Ruleset.CURRENT)

    for finding in findings:
        assert Classifier(tenant, AuditConfig(), Ruleset.CURRENT).finding(finding.resource) == finding
    by_name = {f.resource.name: f for f in findings}
    if inventory == "one_subnet":
        assert [by_name[name].verdict for name in "abcd"] == [Verdict.OPEN] * 2 + [Verdict.DENIED_BY_NETWORK] * 2
        assert "on NIC nic-a or subnet default" in by_name["a"].remediation
        assert "on NIC nic-b or subnet default" in by_name["b"].remediation
        assert by_name["a"].assessment is by_name["b"].assessment  # one object: only the NIC named is their own
        assert by_name["c"].remediation is by_name["d"].remediation  # one copy where the advice names no NIC


@pytest.mark.parametrize("order", ["inside_first", "outside_first"])
def test_a_hub_rule_holding_the_spoke_subnet_whole_decides_once_for_the_senders_inside_it(order: str) -> None:
    """Azure Firewall "Rule processing logic": a network rule applies to traffic from its source addresses, and
    all traffic is denied until a rule allows it. A rule allowing TCP 25 from the spoke's subnet 10.0.0.0/24 opens
    every VM in it; a VM whose address lies outside the subnet (an inconsistent payload) is matched for its own
    address, so the rule does not open it, whichever VM is decided first."""
    inside = (("a", "10.0.0.4"), ("b", "10.0.0.5"))
    outside = (("c", "10.1.0.9"),)
    tenant = _behind_hub_firewall(("10.0.0.0/24",), inside + outside if order == "inside_first" else outside + inside)
    elsewhere = _behind_hub_firewall(("10.9.0.0/16",))

    findings, _ = classify(tenant, AuditConfig(), Ruleset.CURRENT)
    denied, _ = classify(elsewhere, AuditConfig(), Ruleset.CURRENT)

    by_name = {f.resource.name: f for f in findings}
    assert [(name, by_name[name].verdict) for name in "abc"] == [
        ("a", Verdict.OPEN),
        ("b", Verdict.OPEN),
        ("c", Verdict.DENIED_BY_NETWORK),
    ]
    assert "rule smtp allows TCP 25" in by_name["a"].reason
    assert "denies TCP 25 to the internet by default" in by_name["c"].reason
    assert [(f.resource.name, f.verdict) for f in denied if f.resource.name in "ab"] == [
        ("a", Verdict.DENIED_BY_NETWORK),
        ("b", Verdict.DENIED_BY_NETWORK),
    ]
    for finding in findings:
        assert Classifier(tenant, AuditConfig(), Ruleset.CURRENT).finding(finding.resource) == finding


@pytest.mark.parametrize("order", ["inside_first", "outside_first"])
@pytest.mark.parametrize(("denied_from", "denied"), [("10.0.0.0/24", "ab"), ("10.0.0.4/32", "a")])
def test_an_nsg_rule_naming_sources_decides_for_the_senders_it_holds(order: str, denied_from: str, denied: str) -> None:
    """Azure's NSG rules match traffic by source address, first match by priority ("Network security groups:
    security rules"); the platform lets TCP 25 out for Enterprise Agreement ("outbound SMTP connections on TCP port
    25 are not blocked"). A deny naming the VMs' subnet 10.0.0.0/24 closes every VM in it, one naming 10.0.0.4 only
    that VM; a VM whose address lies outside the subnet (an inconsistent payload) is matched for its own address,
    whichever VM is decided first."""
    rule = SecurityRule("deny-smtp", 100, "Outbound", "Deny", "Tcp", (denied_from,), ("Internet",), ("25",))
    nsg = NetworkSecurityGroup(f"{GROUP}/providers/Microsoft.Network/networkSecurityGroups/nsg", "nsg", (rule,))
    senders = [("a", "10.0.0.4"), ("b", "10.0.0.5"), ("c", "10.1.0.9")]
    if order == "outside_first":
        senders.reverse()
    tenant = _tenant(
        EA,
        *(_vm(name, f"nic-{name}") for name, _ in senders),
        nics=tuple(_plain_nic(f"nic-{name}", address, "nsg") for name, address in senders),
        nsgs=(nsg,),
    )

    findings, _ = classify(tenant, AuditConfig(), Ruleset.CURRENT)

    by_name = {f.resource.name: f.verdict for f in findings}
    assert by_name == {name: Verdict.DENIED_BY_NETWORK if name in denied else Verdict.OPEN for name in "abc"}
    for finding in findings:
        assert Classifier(tenant, AuditConfig(), Ruleset.CURRENT).finding(finding.resource) == finding


_SOURCES = (
    "10.0.0.0/24", "10.0.0.0/25", "10.0.0.128/25", "10.0.0.4/32", "10.0.0.0/16", "10.1.0.0/16", "0.0.0.0/0", "*",
    "VirtualNetwork", "10.0.0.0/23", "AzureCloud", "10.0.0.0-10.0.0.9",
)  # fmt: skip
_ADDRESSES = ("10.0.0.4", "10.0.0.5", "10.0.0.130", "10.1.0.9", "10.0.0.200", "192.168.1.1")


def _random_tenant(rng: random.Random, number: int) -> TenantInventory:
    """An NSG (odd numbers) or a hub firewall rule naming random sources, and VMs at random addresses, some
    outside their subnet 10.0.0.0/24."""
    senders = tuple((f"v{i}", rng.choice(_ADDRESSES)) for i in range(rng.randint(1, 6)))
    if number % 2 == 0:
        return _behind_hub_firewall(tuple(rng.sample(_SOURCES, rng.randint(1, 2))), senders)
    rules = tuple(
        SecurityRule(
            f"r{i}", 100 + 10 * i * rng.randint(0, 1), "Outbound", rng.choice(["Allow", "Deny"]), "Tcp",
            tuple(rng.sample(_SOURCES, rng.randint(1, 2))), ("Internet",), (rng.choice(["25", "587", "*"]),),
            source_asgs=("asg",) if rng.random() < 0.1 else (),
        )
        for i in range(rng.randint(1, 4))
    )  # fmt: skip
    nsg = NetworkSecurityGroup(f"{GROUP}/providers/Microsoft.Network/networkSecurityGroups/nsg", "nsg", rules)
    return _tenant(
        rng.choice([EA, PAYG]),
        *(_vm(name, f"nic-{name}") for name, _ in senders),
        nics=tuple(_plain_nic(f"nic-{name}", address, "nsg") for name, address in senders),
        nsgs=(nsg,),
    )


def test_deciding_once_per_subnet_finds_what_deciding_per_sender_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random NSG and hub firewall rules naming sources, and senders in and out of their subnet: every finding
    equals the one found when each sender is decided for its own address."""
    rng = random.Random(25)
    tenants = [_random_tenant(rng, number) for number in range(300)]
    once_per_subnet = [classify(tenant, AuditConfig(), Ruleset.CURRENT)[0] for tenant in tenants]

    monkeypatch.setattr(sharing, "same_for_every_sender_in", lambda *_: False)
    monkeypatch.setattr(FirewallRules, "same_for_every_sender_in", lambda *_: False)
    per_sender = [classify(tenant, AuditConfig(), Ruleset.CURRENT)[0] for tenant in tenants]

    assert once_per_subnet == per_sender
    verdicts = {finding.verdict for findings in per_sender for finding in findings}
    assert {Verdict.OPEN, Verdict.DENIED_BY_NETWORK, Verdict.BLOCKED, Verdict.UNKNOWN} <= verdicts
