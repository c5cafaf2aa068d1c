"""Microsoft's own example payloads (shared/arm-examples) through the real SDK deserialisers, via the replay.

Their `nextLink` values are placeholders ("http://nextlink", "...", "a://example.com/a") that no request may follow,
so each example is replayed as a single page; paging itself is tested on recordings in test_replay.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions
from azure.mgmt.web import WebSiteManagementClient

from auditor.collect.arm import ArmCollector
from auditor.collect.lists import routes_app_traffic
from auditor.collect.replay import ReplayCredential, ReplayTransport
from auditor.model import ResourceCategory, Subscription
from tests.recordings import entry, subscription_entries, transport

CREDENTIAL = ReplayCredential()


def example(arm_examples: Path, name: str, status: str = "200") -> tuple[dict[str, Any], Any]:
    document = json.loads((arm_examples / name).read_text(encoding="utf-8"))
    body = copy.deepcopy(document["responses"][status].get("body"))
    if isinstance(body, dict):
        body.pop("nextLink", None)
    return document["parameters"], body


def _sub(p: dict[str, Any]) -> str:
    return str(p["subscriptionId"])


# file -> (request path from the example's parameters, the SDK call that lists or gets it)
Call = Callable[[ReplayTransport, dict[str, Any]], Any]
LISTS: dict[str, tuple[Callable[[dict[str, Any]], str], Call]] = {
    "resources/GetSubscriptions.json": (
        lambda p: "/subscriptions",
        lambda t, p: SubscriptionClient(CREDENTIAL, transport=t).subscriptions.list(),
    ),
    "resources/GetTenants.json": (
        lambda p: "/tenants",
        lambda t, p: SubscriptionClient(CREDENTIAL, transport=t).tenants.list(),
    ),
    **{
        f"compute/{name}": (
            lambda p: f"/subscriptions/{_sub(p)}/providers/Microsoft.Compute/virtualMachines",
            lambda t, p: ComputeManagementClient(CREDENTIAL, _sub(p), transport=t).virtual_machines.list_all(),
        )
        for name in ("VirtualMachine_ListAll_MaximumSet_Gen.json", "VirtualMachine_ListAll_MinimumSet_Gen.json")
    },
    "compute/VirtualMachineScaleSet_ListAll_MaximumSet_Gen.json": (
        lambda p: f"/subscriptions/{_sub(p)}/providers/Microsoft.Compute/virtualMachineScaleSets",
        lambda t, p: ComputeManagementClient(CREDENTIAL, _sub(p), transport=t).virtual_machine_scale_sets.list_all(),
    ),
    "compute/VirtualMachineScaleSetVM_List_MaximumSet_Gen.json": (
        lambda p: (
            f"/subscriptions/{_sub(p)}/resourceGroups/{p['resourceGroupName']}/providers/Microsoft.Compute/"
            f"virtualMachineScaleSets/{p['virtualMachineScaleSetName']}/virtualMachines"
        ),
        lambda t, p: ComputeManagementClient(CREDENTIAL, _sub(p), transport=t).virtual_machine_scale_set_vms.list(
            p["resourceGroupName"], p["virtualMachineScaleSetName"]
        ),
    ),
    "web/ListWebApps.json": (
        lambda p: f"/subscriptions/{_sub(p)}/providers/Microsoft.Web/sites",
        lambda t, p: WebSiteManagementClient(CREDENTIAL, _sub(p), transport=t).web_apps.list(),
    ),
    "web/AppServiceEnvironments_List.json": (
        lambda p: f"/subscriptions/{_sub(p)}/providers/Microsoft.Web/hostingEnvironments",
        lambda t, p: WebSiteManagementClient(CREDENTIAL, _sub(p), transport=t).app_service_environments.list(),
    ),
    **{
        f"network/{name}": (
            lambda p, kind=kind: f"/subscriptions/{_sub(p)}/providers/Microsoft.Network/{kind}",
            lambda t, p, op=op: getattr(NetworkManagementClient(CREDENTIAL, _sub(p), transport=t), op).list_all(),
        )
        for name, kind, op in [
            ("AzureFirewallListBySubscription.json", "azureFirewalls", "azure_firewalls"),
            ("FirewallPolicyListBySubscription.json", "firewallPolicies", "firewall_policies"),
            ("NetworkInterfaceListAll.json", "networkInterfaces", "network_interfaces"),
            ("NetworkSecurityGroupListAll.json", "networkSecurityGroups", "network_security_groups"),
            ("RouteTableListAll.json", "routeTables", "route_tables"),
            ("PublicIpAddressListAll.json", "publicIPAddresses", "public_ip_addresses"),
            ("NatGatewayListAll.json", "natGateways", "nat_gateways"),
            ("VirtualNetworkListAll.json", "virtualNetworks", "virtual_networks"),
            ("LoadBalancerListAll.json", "loadBalancers", "load_balancers"),
        ]
    },
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_list_example_deserialises_through_the_sdk(arm_examples: Path, name: str) -> None:
    parameters, body = example(arm_examples, name)
    path, call = LISTS[name]
    replay = transport(entry(path(parameters), body, query=f"api-version={parameters['api-version']}"))

    items = list(call(replay, parameters))

    assert len(items) == len(body["value"]) > 0
    for item, raw in zip(items, body["value"], strict=True):
        assert item.as_dict() if hasattr(item, "as_dict") else item
        expected = raw.get("id") or raw.get("tenantId")
        assert expected in (getattr(item, "id", None), getattr(item, "tenant_id", None))
    assert [method for method, _ in replay.sent] == ["GET"]


def test_every_example_file_is_exercised(arm_examples: Path) -> None:
    files = {str(p.relative_to(arm_examples)) for p in arm_examples.rglob("*.json")}
    exercised = set(LISTS) | {
        "web/GetWebApp.json",
        "web/GetSiteConfig.json",
        "resourcegraph/ResourcesBasicQuery.json",
        "resourcegraph/ResourcesFirstPageQuery.json",
        "resourcegraph/ResourcesNextPageQuery.json",
    }
    assert files == exercised


def test_get_web_app_and_its_404(arm_examples: Path) -> None:
    parameters, body = example(arm_examples, "web/GetWebApp.json")
    _, missing = example(arm_examples, "web/GetWebApp.json", "404")
    group = parameters["resourceGroupName"]
    path = f"/subscriptions/{_sub(parameters)}/resourceGroups/{group}/providers/Microsoft.Web/sites/"
    replay = transport(entry(path + parameters["name"], body), entry(path + "gone", missing, status=404))
    client = WebSiteManagementClient(CREDENTIAL, _sub(parameters), transport=replay)

    site = client.web_apps.get(parameters["resourceGroupName"], parameters["name"])

    assert site.name == parameters["name"]
    # the fields the App Service rule reads: this example routes nothing into a VNet
    assert site.properties.get("virtualNetworkSubnetId") is None
    assert routes_app_traffic(site.properties) is False
    with pytest.raises(ResourceNotFoundError):
        client.web_apps.get(parameters["resourceGroupName"], "gone")


def test_site_config_example_gives_vnet_route_all(arm_examples: Path) -> None:
    parameters, body = example(arm_examples, "web/GetSiteConfig.json")
    group, name = parameters["resourceGroupName"], parameters["name"]
    replay = transport(
        entry(
            f"/subscriptions/{_sub(parameters)}/resourceGroups/{group}/providers/Microsoft.Web/sites/{name}/config/web",
            body,
        )
    )
    config = WebSiteManagementClient(CREDENTIAL, _sub(parameters), transport=replay).web_apps.get_configuration(
        group, name
    )
    assert body["properties"]["vnetRouteAllEnabled"] is False
    assert routes_app_traffic(config.properties) is False


@pytest.mark.parametrize(
    "name",
    [
        "resourcegraph/ResourcesBasicQuery.json",
        "resourcegraph/ResourcesFirstPageQuery.json",
        "resourcegraph/ResourcesNextPageQuery.json",
    ],
)
def test_resource_graph_examples_through_the_sdk(arm_examples: Path, name: str) -> None:
    parameters, body = example(arm_examples, name)
    query = parameters["query"]
    replay = transport(
        entry(
            "/providers/Microsoft.ResourceGraph/resources",
            body,
            method="POST",
            query=f"api-version={parameters['api-version']}",
            request_body=query,
        )
    )
    options = query.get("options") or {}
    request = QueryRequest(
        subscriptions=query["subscriptions"],
        query=query["query"],
        options=QueryRequestOptions(
            skip_token=options.get("$skipToken"), top=options.get("$top"), skip=options.get("$skip")
        ),
    )

    response = ResourceGraphClient(CREDENTIAL, transport=replay).resources(request)

    assert response.count == len(body["data"]) == len(response.data)
    assert response.skip_token == body.get("$skipToken")
    assert [row["id"] for row in response.data] == [row["id"] for row in body["data"]]
    assert replay.sent[0][0] == "POST"


def test_the_facade_reads_the_fields_the_rules_need_from_the_examples(arm_examples: Path) -> None:
    """VM, scale set, sites, ASE and firewall examples through ArmCollector into our own model."""
    sub = "34adfa4f-cedf-4dc0-ba29-b6d1a69ab345"
    bodies = {
        "Microsoft.Compute/virtualMachines": example(
            arm_examples, "compute/VirtualMachine_ListAll_MaximumSet_Gen.json"
        )[1],
        "Microsoft.Compute/virtualMachineScaleSets": example(
            arm_examples, "compute/VirtualMachineScaleSet_ListAll_MaximumSet_Gen.json"
        )[1],
        "Microsoft.Web/sites": example(arm_examples, "web/ListWebApps.json")[1],
        "Microsoft.Web/hostingEnvironments": example(arm_examples, "web/AppServiceEnvironments_List.json")[1],
        "Microsoft.Network/azureFirewalls": example(arm_examples, "network/AzureFirewallListBySubscription.json")[1],
    }
    replay = transport(
        *subscription_entries(sub, **{kind.replace("/", "_").replace(".", "_"): body for kind, body in bodies.items()})
    )
    subscription = Subscription(sub, "Example", "Enabled", "tenant", "Internal_2014-09-01")

    inventory = ArmCollector(CREDENTIAL, replay).collect_subscription(subscription)

    assert inventory.errors == ()
    by_category: dict[ResourceCategory, list[Any]] = {}
    for resource in inventory.resources:
        by_category.setdefault(resource.category, []).append(resource)
    vms = by_category[ResourceCategory.VIRTUAL_MACHINE]
    assert [vm.resource_id for vm in vms] == [v["id"] for v in bodies["Microsoft.Compute/virtualMachines"]["value"]]
    assert all(vm.resource_type == "Microsoft.Compute/virtualMachines" and vm.location for vm in vms)
    assert len(by_category[ResourceCategory.SCALE_SET]) == 1
    sites = by_category[ResourceCategory.APP_SERVICE]
    assert [s.name for s in sites] == ["sitef6141", "sitef7252"]
    assert all(s.kind == "app" and s.resource_group == "testrg123" for s in sites)
    assert all(s.app is not None and s.app.subnet_id is None and s.app.routes_app_traffic is False for s in sites)
    (firewall,) = by_category[ResourceCategory.FIREWALL]
    assert firewall.name == "azurefirewall" and firewall.resource_group == "rg1"
    (environment,) = inventory.environments
    assert (
        environment.is_v3 and environment.subnet_id is not None and environment.subnet_id.endswith("/subnets/delegated")
    )


def test_the_subscriptions_example_through_the_facade(arm_examples: Path) -> None:
    _, body = example(arm_examples, "resources/GetSubscriptions.json")
    subs = [s["subscriptionId"] for s in body["value"]]
    replay = transport(entry("/subscriptions", body), *(e for s in subs for e in subscription_entries(s)))

    inventory = ArmCollector(CREDENTIAL, replay).collect()

    assert inventory.complete
    got = [
        (i.subscription.subscription_id, i.subscription.quota_id, i.subscription.state, i.subscription.tenant_id)
        for i in inventory.subscriptions
    ]
    assert got == [(s["subscriptionId"], "Internal_2014-09-01", "Enabled", s["tenantId"]) for s in body["value"]]


def test_the_facade_reads_the_network_examples(arm_examples: Path) -> None:
    """NIC, NSG, route table, VNet, NAT gateway, load balancer and public IP examples into our network model."""
    sub = "subid"
    names = {
        "Microsoft.Network/networkInterfaces": "NetworkInterfaceListAll.json",
        "Microsoft.Network/networkSecurityGroups": "NetworkSecurityGroupListAll.json",
        "Microsoft.Network/routeTables": "RouteTableListAll.json",
        "Microsoft.Network/virtualNetworks": "VirtualNetworkListAll.json",
        "Microsoft.Network/natGateways": "NatGatewayListAll.json",
        "Microsoft.Network/loadBalancers": "LoadBalancerListAll.json",
        "Microsoft.Network/publicIPAddresses": "PublicIpAddressListAll.json",
    }
    bodies = {kind: example(arm_examples, f"network/{name}")[1] for kind, name in names.items()}
    replay = transport(
        *subscription_entries(sub, **{k.replace("/", "_").replace(".", "_"): b for k, b in bodies.items()})
    )

    network = ArmCollector(CREDENTIAL, replay).collect_subscription(Subscription(sub, "", "Enabled", "", None)).network

    raw_nics = bodies["Microsoft.Network/networkInterfaces"]["value"]
    assert [n.nic_id for n in network.interfaces] == [n["id"] for n in raw_nics]
    for ours, raw in zip(network.interfaces, raw_nics, strict=True):
        configurations = raw["properties"]["ipConfigurations"]
        assert [c.subnet_id for c in ours.ip_configurations] == [
            c["properties"].get("subnet", {}).get("id") for c in configurations
        ]
        assert [c.has_public_ip for c in ours.ip_configurations] == [
            "publicIPAddress" in c["properties"] for c in configurations
        ]
    raw_groups = bodies["Microsoft.Network/networkSecurityGroups"]["value"]
    for ours_group, raw_group in zip(network.security_groups, raw_groups, strict=True):
        expected = len(raw_group["properties"].get("securityRules", [])) + len(
            raw_group["properties"]["defaultSecurityRules"]
        )
        assert len(ours_group.rules) == expected
        assert {r.name for r in ours_group.rules if r.is_default} >= {"AllowInternetOutBound", "DenyAllOutBound"}
    raw_tables = bodies["Microsoft.Network/routeTables"]["value"]
    assert [[(r.name, r.address_prefix, r.next_hop_type) for r in t.routes] for t in network.route_tables] == [
        [
            (r["name"], r["properties"]["addressPrefix"], r["properties"]["nextHopType"])
            for r in t["properties"].get("routes", [])
        ]
        for t in raw_tables
    ]
    raw_subnets = [
        s for v in bodies["Microsoft.Network/virtualNetworks"]["value"] for s in v["properties"].get("subnets", [])
    ]
    assert [(s.subnet_id, s.address_prefixes[:1]) for s in network.subnets] == [
        (s["id"], (s["properties"]["addressPrefix"],)) for s in raw_subnets
    ]
    assert len(network.nat_gateways) == 3 and len(network.public_ips) == 3
    raw_balancers = bodies["Microsoft.Network/loadBalancers"]["value"]
    assert [b.load_balancer_id for b in network.load_balancers] == [b["id"] for b in raw_balancers]
