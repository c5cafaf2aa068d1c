"""Issue 16.2: ARM mode reads list pages as plain JSON through each SDK client's own pipeline, with the URL and
API version the SDK's own list operation sends."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from auditor.collect.arm import ArmCollector
from auditor.collect.clients import Clients
from auditor.collect.errors import read_all
from auditor.collect.pages import ARM_LISTS, json_items
from auditor.collect.policy import MalformedPage
from auditor.collect.replay import ReplayCredential
from auditor.collect.session import ArmSession
from auditor.model import ListName, Subscription
from tests.recordings import entry, transport

SUB = "11111111-1111-1111-1111-111111111111"

# How the SDK itself lists each of them: the table must send what these send.
SDK_LISTS: dict[ListName, Callable[[Clients], Iterable[Any]]] = {
    ListName.VIRTUAL_MACHINES: lambda c: c.compute.virtual_machines.list_all(),
    ListName.SCALE_SETS: lambda c: c.compute.virtual_machine_scale_sets.list_all(),
    ListName.SITES: lambda c: c.web.web_apps.list(),
    ListName.HOSTING_ENVIRONMENTS: lambda c: c.web.app_service_environments.list(),
    ListName.AZURE_FIREWALLS: lambda c: c.network.azure_firewalls.list_all(),
    ListName.CONTAINER_APPS: lambda c: c.apps.container_apps.list_by_subscription(),
    ListName.CONTAINER_GROUPS: lambda c: c.containers.container_groups.list(),
    ListName.NETWORK_INTERFACES: lambda c: c.network.network_interfaces.list_all(),
    ListName.PUBLIC_IP_ADDRESSES: lambda c: c.network.public_ip_addresses.list_all(),
    ListName.NETWORK_SECURITY_GROUPS: lambda c: c.network.network_security_groups.list_all(),
    ListName.ROUTE_TABLES: lambda c: c.network.route_tables.list_all(),
    ListName.VIRTUAL_NETWORKS: lambda c: c.network.virtual_networks.list_all(),
    ListName.NAT_GATEWAYS: lambda c: c.network.nat_gateways.list_all(),
    ListName.LOAD_BALANCERS: lambda c: c.network.load_balancers.list_all(),
    ListName.FIREWALL_POLICIES: lambda c: c.network.firewall_policies.list_all(),
    ListName.IP_GROUPS: lambda c: c.network.ip_groups.list(),
    ListName.VIRTUAL_HUBS: lambda c: c.network.virtual_hubs.list(),
}


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


@pytest.mark.parametrize("name", list(ARM_LISTS), ids=str)
def test_each_list_is_requested_as_the_sdk_requests_it(name: ListName) -> None:
    listed = ARM_LISTS[name]
    replay = transport(entry(listed.path(SUB), {"value": []}))

    list(SDK_LISTS[name](ArmSession(ReplayCredential(), replay).clients(SUB)))
    list(json_items(ArmSession(ReplayCredential(), replay).clients(SUB), name, SUB))

    (by_sdk, ours) = [url for _, url in replay.sent]
    assert urlsplit(ours).path == urlsplit(by_sdk).path
    assert _query(ours) == _query(by_sdk), "the SDK's list operation sends another api-version: update ARM_LISTS"


def test_every_list_read_per_subscription_has_a_table_row() -> None:
    assert set(SDK_LISTS) == set(ARM_LISTS)


def test_a_next_link_keeps_its_query_and_gets_the_list_s_api_version() -> None:
    listed = ARM_LISTS[ListName.VIRTUAL_MACHINES]
    path = listed.path(SUB)
    first = {
        "value": [{"id": f"{path}/vm-1"}],
        "nextLink": f"https://management.azure.com{path}?api-version=1999-01-01&$skiptoken=two",
    }
    replay = transport(
        entry(path, first, query=f"api-version={listed.api_version}"),
        entry(path, {"value": [{"id": f"{path}/vm-2"}]}, query=f"api-version={listed.api_version}&%24skiptoken=two"),
    )
    clients = ArmSession(ReplayCredential(), replay).clients(SUB)

    items = list(json_items(clients, ListName.VIRTUAL_MACHINES, SUB))

    assert [item["id"].rsplit("/", 1)[-1] for item in items] == ["vm-1", "vm-2"]
    assert _query(replay.sent[1][1]) == {"api-version": listed.api_version, "$skiptoken": "two"}


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"value": [], "nextLink": 7}, "nextLink is a JSON int, not a URL"),
        ([{"id": "x"}], "the page is a JSON list, not an object"),
    ],
    ids=["nextLink-not-text", "page-not-an-object"],
)
def test_a_page_that_cannot_be_paged_is_an_error_for_its_list(body: Any, said: str) -> None:
    path = ARM_LISTS[ListName.NETWORK_INTERFACES].path(SUB)
    clients = ArmSession(ReplayCredential(), transport(entry(path, body))).clients(SUB)

    items, error = read_all(
        "networkInterfaces", f"GET {path}", lambda: json_items(clients, ListName.NETWORK_INTERFACES, SUB)
    )

    assert items == [] and error is not None and said in error.message


def test_an_azure_error_keeps_azure_s_code_and_message() -> None:
    path = ARM_LISTS[ListName.SITES].path(SUB)
    denied = {"error": {"code": "AuthorizationFailed", "message": "The client does not have authorization."}}
    replay = transport(entry(path, denied, status=403))

    inventory = ArmCollector(ReplayCredential(), replay).collect_subscription(
        Subscription(SUB, "s", "Enabled", "t", None)
    )

    (error,) = [e for e in inventory.errors if e.operation == ListName.SITES]
    assert (error.status, error.code, error.message) == (
        403,
        "AuthorizationFailed",
        "The client does not have authorization.",
    )


def test_malformed_page_is_a_value_error_so_every_reader_catches_it() -> None:
    assert issubclass(MalformedPage, ValueError)
