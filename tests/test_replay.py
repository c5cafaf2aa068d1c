"""The replay transport: docs/design.md §4's matching rules, through the real SDK clients."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient

from auditor.collect.replay import RecordingError, RecordingMiss, ReplayCredential, ReplayTransport, request_key
from auditor.collect.transport import ReadOnlyTransport, WriteRefused, is_read
from tests.recordings import entry, transport, vm_payload

SUB = "00000000-0000-0000-0000-0000000000aa"
VMS = f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"


def _names(replay: ReplayTransport) -> list[str]:
    client = ComputeManagementClient(ReplayCredential(), SUB, transport=replay)
    return [vm.name for vm in client.virtual_machines.list_all()]


def test_path_is_case_insensitive_and_api_version_is_ignored() -> None:
    assert request_key("get", "https://x/SUBSCRIPTIONS/A/Providers?api-version=1&b=2&a=1") == request_key(
        "GET", "https://y/subscriptions/a/providers?a=1&b=2&api-version=2099-01-01"
    )
    assert request_key("GET", "https://x/p?a=1") != request_key("GET", "https://x/p?a=2")
    assert request_key("GET", "https://x/p") != request_key("POST", "https://x/p")


GRAPH = "https://management.azure.com/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01"


def test_a_post_is_matched_on_its_query_scope_and_page_not_on_formatting() -> None:
    """A departure from docs/design.md §4: Resource Graph pages by $skipToken in the body of a POST to one URL."""
    first = {"query": "Resources", "subscriptions": ["B", "a"], "options": {"$top": 1000}}
    same = {"subscriptions": ["a", "b"], "query": "Resources", "options": {"$top": 1000, "resultFormat": "objectArray"}}
    assert request_key("POST", GRAPH, json.dumps(first)) == request_key("POST", GRAPH, json.dumps(same).encode())
    assert request_key("POST", GRAPH, first) == request_key("POST", GRAPH, json.dumps(first))  # recorded as object
    second = {**first, "options": {"$top": 1000, "$skipToken": "page-2"}}
    assert request_key("POST", GRAPH, json.dumps(first)) != request_key("POST", GRAPH, json.dumps(second))
    other = {**first, "query": "ResourceContainers"}
    assert request_key("POST", GRAPH, json.dumps(first)) != request_key("POST", GRAPH, json.dumps(other))
    assert request_key("GET", VMS, "ignored") == request_key("GET", VMS)  # a GET's body takes no part


def test_the_sdk_gets_each_graph_page_by_its_skip_token() -> None:
    from azure.mgmt.resourcegraph import ResourceGraphClient
    from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

    def page(token: str | None, names: list[str], next_token: str | None) -> dict[str, object]:
        options: dict[str, object] = {"$top": 2} | ({"$skipToken": token} if token else {})
        body: dict[str, object] = {"count": len(names), "data": [{"id": n} for n in names], "resultTruncated": "false"}
        if next_token:
            body["$skipToken"] = next_token
        return entry(
            "/providers/Microsoft.ResourceGraph/resources",
            body,
            method="POST",
            request_body={"query": "Resources", "subscriptions": [SUB], "options": options},
        )

    replay = transport(page(None, ["a", "b"], "t2"), page("t2", ["c"], None))
    client = ResourceGraphClient(ReplayCredential(), transport=replay)
    ids, token = [], None
    while True:
        request = QueryRequest(
            query="Resources", subscriptions=[SUB], options=QueryRequestOptions(top=2, skip_token=token)
        )
        response = client.resources(request)
        ids += [row["id"] for row in response.data]
        token = response.skip_token
        if not token:
            break
    assert ids == ["a", "b", "c"]
    with pytest.raises(RecordingMiss):
        client.resources(
            QueryRequest(query="Resources", subscriptions=[SUB], options=QueryRequestOptions(skip_token="t9"))
        )


def test_the_sdk_follows_next_link_through_the_replay() -> None:
    replay = transport(
        entry(
            VMS.upper(),
            {
                "value": [vm_payload(SUB, "a")],
                "nextLink": f"https://management.azure.com{VMS}?api-version=1&$skiptoken=2",
            },
            query="api-version=1999-01-01",
        ),
        entry(VMS, {"value": [vm_payload(SUB, "b")]}, query="$skiptoken=2&api-version=2"),
    )
    assert _names(replay) == ["a", "b"]
    assert all(method == "GET" for method, _ in replay.sent) and len(replay.sent) == 2


def test_repeated_requests_are_served_in_order_the_last_repeating() -> None:
    throttled = {"error": {"code": "TooManyRequests", "message": "slow down"}}
    replay = transport(
        entry(VMS, throttled, status=429, headers={"Retry-After": "7"}), entry(VMS, {"value": [vm_payload(SUB, "a")]})
    )
    assert _names(replay) == ["a"]  # azure-core's RetryPolicy retried the 429
    assert replay.slept == [7.0]  # honouring Retry-After, without sleeping
    assert _names(replay) == ["a"]  # the last answer repeats
    assert len(replay.sent) == 3


def test_a_request_with_no_entry_is_an_error_naming_it() -> None:
    replay = transport(entry("/subscriptions", {"value": []}))
    with pytest.raises(RecordingMiss, match=r"no entry for GET /subscriptions/.*/virtualMachines"):
        _names(replay)


def test_error_status_reaches_the_sdk_as_its_own_error() -> None:
    replay = transport(entry(VMS, {"error": {"code": "AuthorizationFailed", "message": "no"}}, status=403))
    with pytest.raises(HttpResponseError) as error:
        _names(replay)
    assert (
        error.value.status_code == 403
        and error.value.error is not None
        and error.value.error.code == "AuthorizationFailed"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not JSON"),
        ('{"entries": []}', "no 'Entries' list"),
        ('{"Entries": [{"RequestUri": "https://x/"}]}', "entry 1 is not a recorded request/response"),
    ],
)
def test_unusable_recording_files_say_why(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RecordingError, match=message):
        ReplayTransport.from_file(path)
    with pytest.raises(RecordingError, match="no such file"):
        ReplayTransport.from_file(tmp_path / "missing.json")


def test_response_body_may_be_a_raw_string(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(
        json.dumps({"Entries": [entry(VMS, json.dumps({"value": [vm_payload(SUB, "raw")]}))]}), encoding="utf-8"
    )
    assert _names(ReplayTransport.from_file(path)) == ["raw"]


@pytest.mark.parametrize(
    ("method", "url", "allowed"),
    [
        ("GET", "https://management.azure.com/subscriptions", True),
        (
            "POST",
            "https://management.azure.com/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
            True,
        ),
        ("POST", "https://management.azure.com/subscriptions/x/providers/Microsoft.Compute/register", False),
        (  # --effective-routes: computes a NIC's routes, changes nothing
            "POST",
            "https://management.azure.com/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/"
            "networkInterfaces/nic1/effectiveRouteTable?api-version=2026-03-01",
            True,
        ),
        (  # no other action of a NIC
            "POST",
            "https://management.azure.com/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/"
            "networkInterfaces/nic1/effectiveNetworkSecurityGroups/extra",
            False,
        ),
        ("PUT", "https://management.azure.com/subscriptions/x/resourceGroups/rg", False),
        ("DELETE", "https://management.azure.com/subscriptions/x/resourceGroups/rg", False),
        ("PATCH", "https://management.azure.com/providers/Microsoft.ResourceGraph/resources", False),
    ],
)
def test_only_reads_leave_the_transport(method: str, url: str, allowed: bool) -> None:
    assert is_read(method, url) is allowed


def test_the_read_only_transport_refuses_writes_before_sending() -> None:
    from azure.core.rest import HttpRequest

    with pytest.raises(WriteRefused, match="refused to send PUT /subscriptions/x"):
        ReadOnlyTransport().send(HttpRequest("PUT", "https://management.azure.com/subscriptions/x"))


def test_live_runs_send_through_the_same_guard() -> None:
    """A live scan (and a live record) builds azure-core's transport through the guard, as replays do."""
    from auditor.collect.recipe import CollectorRecipe

    live = CollectorRecipe().transport()
    assert isinstance(live, ReadOnlyTransport)
    assert issubclass(ReplayTransport, ReadOnlyTransport)
    with pytest.raises(WriteRefused):
        from azure.core.rest import HttpRequest

        live.send(HttpRequest("DELETE", "https://management.azure.com/subscriptions/x/resourceGroups/rg"))
