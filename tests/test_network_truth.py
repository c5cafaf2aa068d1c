"""Issue 25: what Azure's own documentation says the path does, each case a small recorded tenant read through the
SDK and classified. Each test names the documentation sentence it follows."""

from __future__ import annotations

from typing import Any

from fixtures import arm_payloads as arm
from tests.test_egress import EA, GROUP, PAYG, VM, scan, spoke, vnet_id
from tests.test_landing_zones import HUB_IP, TO_HUB


def _hub(**changes: Any) -> dict[str, Any]:
    lists = spoke("hub", prefix="10.200", firewall_ip=HUB_IP)
    (firewall,) = lists["firewalls"] or []
    firewall["properties"].update(changes)
    return lists


def _behind(hub: dict[str, Any]) -> Any:
    return scan({"spoke": (EA, spoke("spoke", routes=TO_HUB, peers=[vnet_id("hub")])), "hub": (EA, hub)})


def test_a_management_ip_configuration_is_not_forced_tunnelling() -> None:
    """Azure Firewall, "Azure Firewall Management NIC": the Basic SKU always has a management IP configuration, and
    "the Management NIC is used ... for packet capture"; forced tunnelling is a default route on
    AzureFirewallSubnet to something other than the Internet ("Azure Firewall forced tunneling")."""
    hub = arm.sub_id("hub")
    mgmt = {
        "name": "mgmt",
        "properties": {"subnet": {"id": arm.subnet(hub, GROUP, "vnet", "AzureFirewallManagementSubnet")}},
    }
    findings = _behind(_hub(managementIpConfiguration=mgmt, sku={"name": "AZFW_VNet", "tier": "Basic"}))

    assert findings["fw"].verdict.value == "open", findings["fw"].reason
    assert findings[VM].verdict.value == "open", findings[VM].reason
    assert "forced tunnelling" not in findings[VM].reason


def test_a_default_route_on_the_firewall_subnet_to_a_gateway_is_forced_tunnelling() -> None:
    """ "Azure Firewall forced tunneling": with a default route to on-premises on AzureFirewallSubnet, the firewall's
    own internet traffic does not leave from its public IP: unknown, saying so."""
    hub = arm.sub_id("hub")
    lists = _hub()
    table = arm.route_table(hub, GROUP, "rt-fw", [("to-onprem", "0.0.0.0/0", "VirtualNetworkGateway", None)])
    lists["route_tables"] = [table]
    for subnet in lists["vnets"][0]["properties"]["subnets"]:  # type: ignore[index]
        if subnet["name"] == "AzureFirewallSubnet":
            subnet["properties"]["routeTable"] = {"id": arm.route_table_id(hub, GROUP, "rt-fw")}
    findings = _behind(lists)

    assert findings["fw"].verdict.value == "unknown"
    assert "(forced tunnelling), not to the internet" in findings["fw"].reason


def test_a_deallocated_firewall_passes_nothing() -> None:
    """ARM shows a deallocated Azure Firewall with empty ipConfigurations ("Stop and start Azure Firewall":
    `$azfw.Deallocate()` removes its IP configurations); it has no instances, so neither it nor a spoke routed to it
    can send: denied_by_network, and the reason says it is deallocated."""
    findings = _behind(_hub(ipConfigurations=[]))

    for name in ("fw", VM):
        assert findings[name].verdict.value == "denied_by_network", (name, findings[name].reason)
        assert "deallocated (stopped)" in findings[name].reason


def _behind_a_load_balancer(protocol: str) -> Any:
    """A VM in a private subnet (no default outbound access) in the backend pool of a load balancer's one
    outbound rule."""
    lists = spoke("ea", lb_outbound=True, default_outbound=False)
    (balancer,) = lists["load_balancers"] or []
    balancer["properties"]["outboundRules"][0]["properties"]["protocol"] = protocol
    return scan({"ea": (EA, lists)})[VM]


def test_a_udp_outbound_rule_gives_tcp_no_way_out() -> None:
    """Load Balancer, "Outbound rules": "protocol: the transport protocol of the outbound rule (TCP, UDP or All)".
    A VM (or scale set) in a private subnet whose only outbound rule is UDP has no TCP way out."""
    finding = _behind_a_load_balancer("Udp")

    assert finding.verdict.value == "denied_by_network", finding.reason
    assert "No outbound path" in finding.reason


def test_tcp_and_all_outbound_rules_give_tcp_25_a_way_out() -> None:
    for protocol in ("Tcp", "All"):
        finding = _behind_a_load_balancer(protocol)
        assert (finding.egress.value, finding.verdict.value) == ("load_balancer", "open"), protocol


def test_an_ipv6_only_public_ip_is_no_ipv4_way_out() -> None:
    """ "Default outbound access in Azure": explicit outbound is a public IP "associated with the NIC"; SMTP to an
    IPv4 internet address leaves by IPv4, so a VM whose only public address is IPv6 takes the next way out (here
    default outbound access)."""
    lists = spoke("ea", public_ip=True)
    (address,) = lists["public_ips"] or []
    address["properties"].update(publicIPAddressVersion="IPv6", ipAddress="2603:1030:20c:3::3f")
    finding = scan({"ea": (EA, lists)})[VM]

    assert finding.egress.value == "default_outbound", finding.reason
    assert "public IP" not in finding.reason.split("Outbound through")[-1]


def _with_source_ports(ports: str | list[str]) -> Any:
    """A VM whose subnet NSG has one deny for every destination port, from the source ports given."""
    lists = spoke("ea", subnet_rules=[{"name": "deny-from", "priority": 100, "access": "Deny", "ports": "*"}])
    (nsg,) = lists["nsgs"] or []
    properties = nsg["properties"]["securityRules"][0]["properties"]
    del properties["sourcePortRange"]
    properties["sourcePortRanges" if isinstance(ports, list) else "sourcePortRange"] = ports
    return scan({"ea": (EA, lists)})[VM]


def test_a_deny_from_source_port_25_does_not_stop_an_smtp_client() -> None:
    """Network security groups, "Security rules": rules match on "source and destination port"; an SMTP client
    connects from an ephemeral port (1024-65535) to port 25, so a rule on source port 25 does not match it."""
    finding = _with_source_ports("25")

    assert finding.verdict.value == "open", finding.reason
    assert "AllowInternetOutBound" in finding.reason


def test_a_deny_from_every_ephemeral_port_stops_it() -> None:
    for ports in ("*", "1024-65535", ["0-1023", "1024-65535"]):
        finding = _with_source_ports(ports)
        assert finding.verdict.value == "denied_by_network", (ports, finding.reason)


def test_a_deny_from_part_of_the_ephemeral_ports_is_unknown_never_a_deny() -> None:
    """Which ephemeral port a client uses is the OS's choice: a rule holding part of them may or may not match."""
    finding = _with_source_ports("49152-65535")

    assert finding.verdict.value == "unknown", finding.reason
    assert "deny-from" in finding.reason


def test_an_allow_wholly_inside_an_earlier_deny_lets_no_sender_out() -> None:
    """Azure Firewall, "Rule processing logic": rules are processed by priority and are terminating (a child
    policy's after its parent's). An allow of TCP 25 from 10.1.0.0/16 and 10.2.0.0/16 after a deny from 10.0.0.0/8
    lets no sender out: the firewall's own row is denied, as the spoke's is (they must not contradict)."""
    hub = arm.sub_id("hub")
    lists = spoke("hub", prefix="10.200", firewall_ip=HUB_IP)
    rules = [
        {"name": "deny-internal", "priority": 100, "action": "Deny",
         "rules": [arm.network_rule("no-smtp", ["25"], sources=["10.0.0.0/8"], policy=False)]},
        {"name": "allow-internal", "priority": 200, "action": "Allow",
         "rules": [arm.network_rule("smtp", ["25"], sources=["10.1.0.0/16", "10.2.0.0/16"], policy=False)]},
    ]  # fmt: skip
    (firewall,) = lists["firewalls"] or []
    lists["firewalls"] = [arm.firewall(hub, GROUP, "fw", "vnet", HUB_IP, policy=None, classic_rules=rules)]
    del firewall
    findings = _behind(lists)

    assert findings[VM].verdict.value == "denied_by_network", findings[VM].reason
    assert findings["fw"].verdict.value == "denied_by_network", findings["fw"].reason


def test_a_firewall_whose_snat_private_ranges_cover_the_internet_cannot_send_to_it() -> None:
    """Azure Firewall, "SNAT private IP address ranges": "To configure Azure Firewall to never SNAT regardless of the
    destination IP address, use 0.0.0.0/0 as your private IP address range. With this configuration, Azure Firewall
    can never route traffic directly to the Internet." Classic rules say it in additionalProperties."""
    findings = _behind(_hub(additionalProperties={"Network.SNAT.PrivateRanges": "0.0.0.0/0"}))

    for name in ("fw", VM):
        assert findings[name].verdict.value == "denied_by_network", (name, findings[name].reason)
        assert "SNAT private ranges (0.0.0.0/0) cover the internet" in findings[name].reason


def test_the_default_and_rfc_1918_private_ranges_change_nothing() -> None:
    for ranges in ("IANAPrivateRanges", "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10"):
        findings = _behind(_hub(additionalProperties={"Network.SNAT.PrivateRanges": ranges}))
        assert findings["fw"].verdict.value == "open" and findings[VM].verdict.value == "open", ranges


def test_a_policy_s_snat_private_ranges_are_read() -> None:
    """The same for a firewall policy's `snat.privateRanges`."""
    from tests.test_landing_zones import policy_tenant, scan_policy_tenant

    tenant = policy_tenant()
    for policy in tenant["hub"]["firewall_policies"]:
        policy["properties"]["snat"] = {"privateRanges": ["0.0.0.0/0"]}
    findings = scan_policy_tenant(tenant=tenant)

    assert findings["fw"].verdict.value == "denied_by_network", findings["fw"].reason


def test_a_peering_that_is_not_connected_is_no_path_to_the_hub_s_firewall() -> None:
    """Virtual network peering, "peering status": traffic flows only over a peering that is Connected; an Initiated
    or Disconnected one carries none. The hub still lists the spoke as Connected: one side not connected decides."""
    spoke_lists = spoke("spoke", routes=TO_HUB, peers=[vnet_id("hub")])
    (vnet,) = spoke_lists["vnets"] or []
    vnet["properties"]["virtualNetworkPeerings"][0]["properties"]["peeringState"] = "Disconnected"
    hub = spoke("hub", prefix="10.200", firewall_ip=HUB_IP, peers=[vnet_id("spoke")])
    findings = scan({"spoke": (EA, spoke_lists), "hub": (EA, hub)})

    finding = findings[VM]
    assert (finding.egress.value, finding.verdict.value) == ("appliance", "unknown"), finding.reason
    assert (
        "has that address in a network the sender's does not reach" in finding.reason
    )  # the hub's firewall, named as elsewhere


def test_stopped_and_deallocated_resources_keep_their_path_s_verdict_and_say_their_state(tmp_path: Any) -> None:
    """App Service: a site whose `state` is Stopped serves nothing now and runs its code again when started; a
    deallocated firewall, a VM whose instance view says PowerState/deallocated: none can send now, all can once
    started, so the verdict is what the path gives and findings.csv's `state` (after relay_587) says the state."""
    import csv
    import json

    from tests.recordings import run_cli
    from tests.test_egress import recorded

    apps = spoke("apps", app=True)
    (site,) = apps["sites"] or []
    site["properties"]["state"] = "Stopped"
    machines = spoke("vms")
    (machine,) = machines["vms"] or []
    machine["properties"]["instanceView"] = {"statuses": [{"code": "ProvisioningState/succeeded"},
                                                          {"code": "PowerState/deallocated"}]}  # fmt: skip
    document = recorded({"apps": (EA, apps), "vms": (EA, machines), "hub": (EA, _hub(ipConfigurations=[]))})
    recording = tmp_path / "tenant.json"
    recording.write_text(json.dumps(document), encoding="utf-8")

    run_cli("scan", "--replay", str(recording), "--out", str(tmp_path / "out"), "--quiet")

    with (tmp_path / "out" / "findings.csv").open(encoding="utf-8", newline="") as stream:
        rows = {(r["subscription_id"], r["resource_name"]): r for r in csv.DictReader(stream)}
    app = rows[(arm.sub_id("apps"), VM)]
    vm = rows[(arm.sub_id("vms"), VM)]
    firewall = rows[(arm.sub_id("hub"), "fw")]
    assert (app["state"], app["verdict"]) == ("stopped", "open")
    assert "It is stopped now: it cannot send until it is started" in app["reason"]
    assert (vm["state"], vm["verdict"]) == ("deallocated", "open")
    assert (firewall["state"], firewall["verdict"]) == ("deallocated", "denied_by_network")


def test_a_rule_naming_an_application_security_group_decides_for_the_nics_in_it() -> None:
    """Application security groups: "you can ... define network security policies based on those groups"; a rule
    whose source is an ASG applies to the network interfaces in it, and only to them. Two VMs in one subnet: the
    one whose NIC is in asg-mail is denied, the other is not."""
    sub = arm.sub_id("ea")
    asg = arm.rid(sub, GROUP, "Microsoft.Network/applicationSecurityGroups", "asg-mail")
    lists = spoke("ea", subnet_rules=[{"name": "deny-mail-servers", "priority": 100, "access": "Deny"}])
    (nsg,) = lists["nsgs"] or []
    rule = nsg["properties"]["securityRules"][0]["properties"]
    del rule["sourceAddressPrefix"]
    rule["sourceApplicationSecurityGroups"] = [{"id": asg}]
    subnet_id = arm.subnet(sub, GROUP, "vnet", "snet")
    lists["vms"] = [arm.vm(sub, GROUP, "vm-in-asg"), arm.vm(sub, GROUP, "vm-outside")]
    lists["nics"] = [
        arm.nic(sub, GROUP, "vm-in-asg-nic", subnet_id, "10.1.1.4", vm_name="vm-in-asg"),
        arm.nic(sub, GROUP, "vm-outside-nic", subnet_id, "10.1.1.5", vm_name="vm-outside"),
    ]
    lists["nics"][0]["properties"]["ipConfigurations"][0]["properties"]["applicationSecurityGroups"] = [{"id": asg}]
    findings = scan({"ea": (EA, lists)})

    assert findings["vm-in-asg"].verdict.value == "denied_by_network", findings["vm-in-asg"].reason
    assert "deny-mail-servers" in findings["vm-in-asg"].reason
    assert findings["vm-outside"].verdict.value == "open", findings["vm-outside"].reason


RELAY = "203.0.113.0/24"  # a partner's relay range (TEST-NET-3: public space, documentation's own)


def _through_a_hub_allowing_only_the_relay(quota: str) -> Any:
    """A spoke behind a hub firewall whose one network rule allows TCP 25 to the partner relay only."""
    from tests.test_landing_zones import classic, rule

    allow = classic("partner", 100, "Allow", rule("to-relay", ["25"], destinations=[RELAY]))
    hub = spoke("hub", prefix="10.200", firewall_ip=HUB_IP, firewall_rules=[allow])
    return scan({"spoke": (quota, spoke("spoke", routes=TO_HUB, peers=[vnet_id("hub")])), "hub": (quota, hub)})


def test_tcp_25_allowed_to_some_public_destinations_is_traffic_to_the_internet() -> None:
    """Issue 25.7, the article: "outbound SMTP connections ... on TCP port 25" are what Azure blocks for a
    Pay-As-You-Go subscription, whatever the public address: mail to a partner's relay leaves Azure on TCP 25. An
    Azure Firewall rule allowing TCP 25 only to the relay's range is a path to the internet on port 25: open under
    an Enterprise Agreement, blocked by the platform under Pay-As-You-Go; the reason and the path name the range."""
    enterprise = _through_a_hub_allowing_only_the_relay(EA)
    pay_as_you_go = _through_a_hub_allowing_only_the_relay(PAYG)

    for name in (VM, "fw"):
        assert enterprise[name].verdict.value == "open", (name, enterprise[name].reason)
        assert pay_as_you_go[name].verdict.value == "blocked", (name, pay_as_you_go[name].reason)
        assert f"allows TCP 25 only to {RELAY}" in enterprise[name].reason
        (deciding,) = [hop for hop in enterprise[name].path if hop.destinations]
        assert (deciding.kind, deciding.destinations, deciding.more_destinations) == ("firewall_rules", (RELAY,), 0)


def _nsg(*rules: dict[str, Any], nic: list[dict[str, Any]] | None = None) -> Any:
    return scan({"ea": (EA, spoke("ea", subnet_rules=list(rules), nic_rules=nic))})[VM]


ALLOW_RELAY = {"name": "allow-relay", "priority": 100, "access": "Allow", "destination": [RELAY]}
DENY_INTERNET = {"name": "deny-internet", "priority": 200, "access": "Deny"}


def test_an_nsg_allowing_tcp_25_only_to_a_relay_lets_mail_out_to_it() -> None:
    """Network security groups, "Security rules": rules are processed by priority and the first match stops
    processing. An allow of TCP 25 to the relay's range before a deny of the internet lets TCP 25 out to that
    range: open, "only to" it, and the step carries the destination."""
    finding = _nsg(ALLOW_RELAY, DENY_INTERNET)

    assert finding.verdict.value == "open", finding.reason
    assert (
        f"allow-relay (priority 100) allows TCP 25 only to {RELAY}, deny-internet (priority 200, Deny) denies the rest"
        in finding.reason
    )
    (hop,) = [hop for hop in finding.path if hop.destinations]
    assert (hop.kind, hop.destinations) == ("nsg", (RELAY,))


def test_an_allow_only_to_private_destinations_is_not_the_internet() -> None:
    """The same allow to 10.0.0.0/8 (on-premises, say) reaches no internet address: the deny decides."""
    finding = _nsg({**ALLOW_RELAY, "destination": ["10.0.0.0/8"]}, DENY_INTERNET)

    assert finding.verdict.value == "denied_by_network", finding.reason
    assert not any(hop.destinations for hop in finding.path)


def test_an_allow_to_destinations_an_earlier_deny_took_reaches_nothing() -> None:
    """First match wins: a deny of TCP 25 to the relay's range before the allow leaves the allow nothing."""
    finding = _nsg(
        {**ALLOW_RELAY, "priority": 150}, {**ALLOW_RELAY, "name": "deny-relay", "access": "Deny"}, DENY_INTERNET
    )

    assert finding.verdict.value == "denied_by_network", finding.reason


def test_two_nsgs_allowing_different_destinations_let_nothing_out() -> None:
    """Outbound traffic passes the NIC's NSG, then the subnet's ("How network security groups filter network
    traffic"): both must allow. Only to 203.0.113.0/24 on the NIC and only to 198.51.100.0/24 on the subnet: no
    destination passes both. Overlapping ranges: the overlap passes."""
    nic = [ALLOW_RELAY, DENY_INTERNET]
    apart = _nsg({**ALLOW_RELAY, "destination": ["198.51.100.0/24"]}, DENY_INTERNET, nic=nic)
    overlapping = _nsg({**ALLOW_RELAY, "destination": ["203.0.113.128/25"]}, DENY_INTERNET, nic=nic)

    assert apart.verdict.value == "denied_by_network", apart.reason
    assert "It allows none of the destinations allowed before (only to 203.0.113.0/24)" in apart.reason
    assert overlapping.verdict.value == "open", overlapping.reason
    assert [hop.destinations for hop in overlapping.path if hop.destinations][-1] == ("203.0.113.128/25",)


def test_a_service_tag_or_fqdn_against_a_prefix_cannot_be_compared() -> None:
    """Which addresses a service tag stands for, Azure Resource Manager does not say: an NSG allowing only to the
    Storage tag after one allowing only to the relay's range leaves whether anything passes unknown."""
    finding = _nsg({**ALLOW_RELAY, "destination": ["Storage"]}, DENY_INTERNET, nic=[ALLOW_RELAY, DENY_INTERNET])

    assert finding.verdict.value == "unknown", finding.reason
    assert "cannot be known from Azure Resource Manager" in finding.reason


def test_the_advice_to_close_a_path_an_nsg_rule_opens_names_that_rule() -> None:
    """Network security groups: rules are processed in priority order and processing stops at the first match, so
    a deny closes the path only with a lower priority number than the allow that lets TCP 25 out (100 here), not
    merely one below AllowInternetOutBound's 65001."""
    opened = _nsg(ALLOW_RELAY, DENY_INTERNET)
    by_default = _nsg()

    assert (
        "in NSG nsg-subnet it needs a priority number below 100, that of rule allow-relay, which lets TCP 25 out"
        in opened.remediation
    )
    assert "below 65001 wins over AllowInternetOutBound" in by_default.remediation
