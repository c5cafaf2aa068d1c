"""Issue 25: what Azure's own documentation says the path does, each case a small recorded tenant read through the
SDK and classified. Each test names the documentation sentence it follows."""

from __future__ import annotations

from typing import Any

from fixtures import arm_payloads as arm
from tests.test_egress import EA, GROUP, VM, scan, spoke, vnet_id
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
