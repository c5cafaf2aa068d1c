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

from auditor.collect.api_versions import COMPUTE, CONTAINER_APPS, CONTAINER_INSTANCES, NETWORK, WEB
from auditor.collect.clients import Clients
from auditor.collect.lists import KINDS, ListKind
from auditor.collect.paging import json_pages
from auditor.model import ListName


@dataclass(frozen=True)
class ArmList:
    """How one list of a subscription is requested: its list (whose path it is), the client whose pipeline sends
    it, and the API version the SDK's list operation uses (`tests/test_pages.py` checks both against the SDK)."""

    kind: ListKind
    client: Callable[[Clients], Any]
    api_version: str

    def path(self, subscription_id: str) -> str:
        return f"/subscriptions/{subscription_id}/{self.kind.path}"


# Each list's client and API version; its path is its ListKind's (`auditor.collect.lists.KINDS`).
_READERS: dict[ListName, tuple[Callable[[Clients], Any], str]] = {
    ListName.VIRTUAL_MACHINES: (lambda c: c.compute, COMPUTE),
    ListName.SCALE_SETS: (lambda c: c.compute, COMPUTE),
    ListName.SITES: (lambda c: c.web, WEB),
    ListName.HOSTING_ENVIRONMENTS: (lambda c: c.web, WEB),
    ListName.AZURE_FIREWALLS: (lambda c: c.network, NETWORK),
    ListName.CONTAINER_APPS: (lambda c: c.apps, CONTAINER_APPS),
    ListName.CONTAINER_GROUPS: (lambda c: c.containers, CONTAINER_INSTANCES),
    ListName.NETWORK_INTERFACES: (lambda c: c.network, NETWORK),
    ListName.PUBLIC_IP_ADDRESSES: (lambda c: c.network, NETWORK),
    ListName.NETWORK_SECURITY_GROUPS: (lambda c: c.network, NETWORK),
    ListName.ROUTE_TABLES: (lambda c: c.network, NETWORK),
    ListName.VIRTUAL_NETWORKS: (lambda c: c.network, NETWORK),
    ListName.NAT_GATEWAYS: (lambda c: c.network, NETWORK),
    ListName.LOAD_BALANCERS: (lambda c: c.network, NETWORK),
    ListName.FIREWALL_POLICIES: (lambda c: c.network, NETWORK),
    ListName.IP_GROUPS: (lambda c: c.network, NETWORK),
    ListName.VIRTUAL_HUBS: (lambda c: c.network, NETWORK),
}
ARM_LISTS: dict[ListName, ArmList] = {kind.operation: ArmList(kind, *_READERS[kind.operation]) for kind in KINDS}


def json_items(clients: Clients, name: ListName, subscription_id: str) -> Iterator[Mapping[str, Any]]:
    """Every item of a subscription's list, page by page, as the JSON Azure sent."""
    listed = ARM_LISTS[name]
    return json_pages(listed.client(clients), listed.path(subscription_id), listed.api_version)
