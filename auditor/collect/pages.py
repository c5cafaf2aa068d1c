"""The lists of a subscription, as ARM mode requests them: plain JSON pages through an SDK client's pipeline.

The SDK's typed models cost half a scan's CPU to build, and port25-audit reads items as mappings of REST names
anyway (as Resource Graph rows come). So in ARM mode each list is requested through the client's `send_request`:
the same pipeline (transport, retry, sign-in, rate limit, host and page checks, replay), the same URL and
`api-version` the SDK's list operation sends, and each page's JSON goes straight to the converters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from auditor.collect.paging import json_pages
from auditor.collect.session import Clients
from auditor.model import ListName


@dataclass(frozen=True)
class ArmList:
    """One list of a subscription: the client whose pipeline sends it, its provider path and API version (the
    ones the SDK's list operation uses: `tests/test_pages.py` checks them against the SDK)."""

    client: Callable[[Clients], Any]
    provider_path: str
    api_version: str

    def path(self, subscription_id: str) -> str:
        return f"/subscriptions/{subscription_id}/providers/{self.provider_path}"


COMPUTE, NETWORK, WEB = "2026-04-01", "2026-03-01", "2025-05-01"

ARM_LISTS: dict[ListName, ArmList] = {
    ListName.VIRTUAL_MACHINES: ArmList(lambda c: c.compute, "Microsoft.Compute/virtualMachines", COMPUTE),
    ListName.SCALE_SETS: ArmList(lambda c: c.compute, "Microsoft.Compute/virtualMachineScaleSets", COMPUTE),
    ListName.SITES: ArmList(lambda c: c.web, "Microsoft.Web/sites", WEB),
    ListName.HOSTING_ENVIRONMENTS: ArmList(lambda c: c.web, "Microsoft.Web/hostingEnvironments", WEB),
    ListName.AZURE_FIREWALLS: ArmList(lambda c: c.network, "Microsoft.Network/azureFirewalls", NETWORK),
    ListName.CONTAINER_APPS: ArmList(lambda c: c.apps, "Microsoft.App/containerApps", "2026-07-01"),
    ListName.CONTAINER_GROUPS: ArmList(
        lambda c: c.containers, "Microsoft.ContainerInstance/containerGroups", "2023-05-01"
    ),
    ListName.NETWORK_INTERFACES: ArmList(lambda c: c.network, "Microsoft.Network/networkInterfaces", NETWORK),
    ListName.PUBLIC_IP_ADDRESSES: ArmList(lambda c: c.network, "Microsoft.Network/publicIPAddresses", NETWORK),
    ListName.NETWORK_SECURITY_GROUPS: ArmList(lambda c: c.network, "Microsoft.Network/networkSecurityGroups", NETWORK),
    ListName.ROUTE_TABLES: ArmList(lambda c: c.network, "Microsoft.Network/routeTables", NETWORK),
    ListName.VIRTUAL_NETWORKS: ArmList(lambda c: c.network, "Microsoft.Network/virtualNetworks", NETWORK),
    ListName.NAT_GATEWAYS: ArmList(lambda c: c.network, "Microsoft.Network/natGateways", NETWORK),
    ListName.LOAD_BALANCERS: ArmList(lambda c: c.network, "Microsoft.Network/loadBalancers", NETWORK),
    ListName.FIREWALL_POLICIES: ArmList(lambda c: c.network, "Microsoft.Network/firewallPolicies", NETWORK),
    ListName.IP_GROUPS: ArmList(lambda c: c.network, "Microsoft.Network/ipGroups", NETWORK),
    ListName.VIRTUAL_HUBS: ArmList(lambda c: c.network, "Microsoft.Network/virtualHubs", NETWORK),
}


def json_items(clients: Clients, name: ListName, subscription_id: str) -> Iterator[Mapping[str, Any]]:
    """Every item of a subscription's list, page by page, as the JSON Azure sent."""
    listed = ARM_LISTS[name]
    return json_pages(listed.client(clients), listed.path(subscription_id), listed.api_version)
