"""Issue 25.9: gateway transit and BGP. A subnet whose VNet has a VPN or ExpressRoute gateway, or peers a hub with
`useRemoteGateways`, and whose route table does not turn gateway route propagation off, may receive a default
route from on-premises that no GET shows; `--effective-routes` reads what Azure applies (a long-running POST),
tested on Microsoft's example payload and on the 202-and-poll sequence, through the SDK's own poller."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from auditor.report.json import flat_findings
from fixtures import arm_payloads as arm
from tests.recordings import run_cli
from tests.test_egress import EA, GROUP, VM, recorded, scan, scan_all, spoke, vnet_id

SUB = arm.sub_id("ea")
GATEWAY = arm.rid(SUB, GROUP, "Microsoft.Network/virtualNetworkGateways", "vpngw")
NIC = arm.rid(SUB, GROUP, "Microsoft.Network/networkInterfaces", f"{VM}-nic")
POLL = f"{arm.ARM}{NIC}/operationResults/6a0e5e0c-0000-4000-8000-000000000001?api-version=2026-03-01"


def _with_gateway(lists: dict[str, Any], sub: str = SUB) -> dict[str, Any]:
    """The VNet gets a GatewaySubnet holding a VPN gateway's IP configuration (as the VNet list shows it)."""
    (vnet,) = lists["vnets"]
    gateway = arm.rid(sub, GROUP, "Microsoft.Network/virtualNetworkGateways", "vpngw")
    vnet["properties"]["subnets"].append(
        {
            "name": "GatewaySubnet",
            "id": f"{vnet['id']}/subnets/GatewaySubnet",
            "properties": {
                "addressPrefix": "10.1.255.0/27",
                "ipConfigurations": [{"id": f"{gateway}/ipConfigurations/default"}],
            },
        }
    )
    return lists


def test_a_vnet_with_a_gateway_says_a_default_route_from_on_premises_may_apply() -> None:
    """Virtual network traffic routing, "Border gateway protocol": a virtual network gateway propagates the routes
    it learns to every subnet, and no GET shows them; the verdict stays what the GETs give, and the reason names
    the gateway."""
    finding = scan({"ea": (EA, _with_gateway(spoke("ea")))})[VM]

    assert finding.verdict.value == "open", finding.reason
    assert (
        "Subnet snet may learn a default route from on-premises that no GET shows: VNet vnet has virtual network "
        "gateway vpngw, and its route table does not turn gateway route propagation off (--effective-routes reads "
        "the routes Azure applies)"
    ) in finding.reason
    assert [(hop.kind, hop.id) for hop in finding.path if hop.kind == "gateway"] == [("gateway", GATEWAY)]


def test_a_route_table_that_turns_propagation_off_or_a_default_udr_leaves_no_doubt() -> None:
    """ "Propagate gateway routes: No" (`disableBgpRoutePropagation`) keeps gateway routes out of the subnet; a
    user-defined route for 0.0.0.0/0 wins over one learned by BGP for the same prefix."""
    off = _with_gateway(spoke("ea", routes=[]))
    off["route_tables"][0]["properties"]["disableBgpRoutePropagation"] = True
    udr = _with_gateway(spoke("ea", routes=[("default", "0.0.0.0/0", "Internet", None)]))

    for lists in (off, udr):
        finding = scan({"ea": (EA, lists)})[VM]
        assert finding.verdict.value == "open", finding.reason
        assert "no GET shows" not in finding.reason


def test_gateway_transit_names_the_peering_and_the_hub() -> None:
    """Virtual network peering, "Gateway transit": a spoke whose peering has `useRemoteGateways` uses the hub's
    gateway, and learns its routes."""
    spoke_lists = spoke("ea", peers=[vnet_id("hub")])
    spoke_lists["vnets"][0]["properties"]["virtualNetworkPeerings"][0]["properties"]["useRemoteGateways"] = True  # type: ignore[index]
    hub = _with_gateway(spoke("hub", prefix="10.200"), arm.sub_id("hub"))
    findings = scan_all({"ea": (EA, spoke_lists), "hub": (EA, hub)})
    (finding,) = [f for f in findings if f.resource.name == VM and f.resource.subscription_id == SUB]

    assert "its peering peer-to-vnet uses the gateway of VNet vnet (gateway transit)" in finding.reason
    assert finding.verdict.value == "open"


def _routes_body(*routes: tuple[str, str, str, str]) -> dict[str, Any]:
    return {
        "value": [
            {"addressPrefix": [prefix], "nextHopIpAddress": [], "nextHopType": hop, "source": source, "state": state}
            for prefix, hop, source, state in routes
        ]
    }


def _scan_with_effective_routes(
    tmp_path: Path,
    answers: list[tuple[int, Any, dict[str, str]]],
    polls: tuple[tuple[int, Any], ...] = (),
    poll: str = POLL,
    options: tuple[str, ...] = ("--effective-routes",),
) -> tuple[Any, dict[str, str], dict[str, Any], str]:
    """The gateway spoke scanned (with --effective-routes): the POST answered by `answers` (status, body,
    headers), the operation's Location `poll` by `polls`."""
    document = recorded({"ea": (EA, _with_gateway(spoke("ea")))})
    for status, body, headers in answers:
        document["Entries"].append(
            {
                "RequestUri": f"{arm.ARM}{NIC}/effectiveRouteTable?api-version=2026-03-01",
                "RequestMethod": "POST",
                "RequestHeaders": {},
                "RequestBody": None,
                "StatusCode": status,
                "ResponseHeaders": arm.headers(status, headers),
                "ResponseBody": body,
            }
        )
    for status, body in polls:
        headers = {"Location": poll, "Retry-After": "0"} if status == 202 else {}
        document["Entries"].append(
            {
                "RequestUri": poll,
                "RequestMethod": "GET",
                "RequestHeaders": {},
                "RequestBody": None,
                "StatusCode": status,
                "ResponseHeaders": arm.headers(status, headers),
                "ResponseBody": body,
            }
        )
    recording = tmp_path / "tenant.json"
    recording.write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "out"
    status, _, stderr = run_cli("scan", "--replay", str(recording), "--out", str(out), "--quiet", *options)
    with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
        rows = {r["resource_name"]: r for r in csv.DictReader(stream)}
    scanned = json.loads((out / "scan.json").read_text(encoding="utf-8"))
    return status, rows[VM], scanned, stderr


def test_microsoft_s_example_effective_route_table_read_after_202_and_polling(
    tmp_path: Path, arm_examples: Path
) -> None:
    """`NetworkInterfaces_GetEffectiveRouteTable` is a long-running POST: Microsoft's example answers 202 with a
    `Location`, then the route table (0.0.0.0/0 to the Internet, source Default). The SDK's poller follows it;
    the path is decided on what Azure applies: open, saying so, and the audit is complete."""
    example = json.loads((arm_examples / "network/NetworkInterfaceEffectiveRouteTableList.json").read_text())
    location = example["responses"]["202"]["headers"]["Location"]
    status, row, _, stderr = _scan_with_effective_routes(
        tmp_path,
        [(202, None, {"Location": location, "Retry-After": "0"})],
        ((202, None), (200, example["responses"]["200"]["body"])),
        location,
    )

    assert status == 0, stderr
    assert row["verdict"] == "open", row["reason"]
    assert (
        f"The effective route table of NIC {VM}-nic (read with --effective-routes) sends 0.0.0.0/0 to Internet "
        "(source Default): no route from a gateway takes it"
    ) in row["reason"]
    assert "no GET shows" not in row["reason"]


def test_a_default_route_learned_by_bgp_sends_the_traffic_on_premises(tmp_path: Path) -> None:
    """Where BGP brings 0.0.0.0/0 from on-premises, Azure marks the system default route Invalid and sends internet
    traffic to the gateway: the traffic leaves for on-premises (forced tunnelling), whose path is not Azure's:
    unknown, naming the effective route; the route step names the NIC it was read from."""
    body = _routes_body(
        ("0.0.0.0/0", "Internet", "Default", "Invalid"),
        ("0.0.0.0/0", "VirtualNetworkGateway", "VirtualNetworkGateway", "Active"),
    )
    status, row, scanned, stderr = _scan_with_effective_routes(tmp_path, [(200, body, {})])

    assert status == 0, stderr
    assert (row["egress"], row["verdict"]) == ("on_premises", "unknown"), row["reason"]
    assert "sends 0.0.0.0/0 to VirtualNetworkGateway (source VirtualNetworkGateway)" in row["reason"]
    (finding,) = [f for f in flat_findings(scanned) if f["resource_name"] == VM]
    assert finding["path"][-1]["kind"] == "route" and finding["path"][-1]["id"] == NIC


def test_a_refused_effective_route_table_is_an_error_of_that_subnet_and_the_get_reading_stays(tmp_path: Path) -> None:
    """The action needs Microsoft.Network/networkInterfaces/effectiveRouteTable/action, which Reader lacks: a 403 is
    an error of the subscription (the audit is incomplete, exit 2), the finding keeps what the GETs give and says
    the routes could not be read."""
    refused = arm.authorization_failed(SUB, "networkInterfaces/effectiveRouteTable/action")
    status, row, scanned, _ = _scan_with_effective_routes(tmp_path, [(403, refused, {})])

    assert status == 2
    assert row["verdict"] == "open"
    assert "may learn a default route from on-premises" in row["reason"]
    assert (
        "its effective route table could not be read (effectiveRouteTable: HTTP 403 AuthorizationFailed"
        in row["reason"]
    )
    (subscription,) = scanned["subscriptions"]
    assert [e["operation"] for e in subscription["errors"]] == ["effectiveRouteTable"]


def test_without_the_option_nothing_is_posted(tmp_path: Path) -> None:
    """The POST is opt-in: the same recording scanned without --effective-routes sends none (the replay would
    answer it) and keeps the GET-only reading."""
    body = _routes_body(("0.0.0.0/0", "VirtualNetworkGateway", "VirtualNetworkGateway", "Active"))
    status, row, _, stderr = _scan_with_effective_routes(tmp_path, [(200, body, {})], options=())

    assert status == 0, stderr
    assert row["verdict"] == "open" and "(--effective-routes reads the routes Azure applies)" in row["reason"]


def test_a_scrubbed_recording_of_the_poll_replays_to_the_same_routes(tmp_path: Path) -> None:
    """`record --scrub` keeps the operation's `Location` (the poll's address), scrubbed as the request it names is,
    and the route table's fields: the scrubbed recording replays to the same reading, naming no subscription."""
    from auditor.collect.scrub import scrub

    body = _routes_body(("0.0.0.0/0", "VirtualNetworkGateway", "VirtualNetworkGateway", "Active"))
    (tmp_path / "a").mkdir()
    _, before, _, _ = _scan_with_effective_routes(tmp_path / "a", [(202, None, {"Location": POLL})], ((200, body),))
    document = json.loads((tmp_path / "a" / "tenant.json").read_text(encoding="utf-8"))
    scrubbed = scrub(document)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "tenant.json").write_text(json.dumps(scrubbed), encoding="utf-8")
    status, _, stderr = run_cli(
        "scan", "--replay", str(tmp_path / "b" / "tenant.json"), "--out", str(tmp_path / "b" / "out"),
        "--effective-routes", "--quiet",
    )  # fmt: skip

    assert status == 0, stderr
    with (tmp_path / "b" / "out" / "findings.csv").open(encoding="utf-8", newline="") as stream:
        (after,) = list(csv.DictReader(stream))
    assert (after["egress"], after["verdict"]) == (before["egress"], before["verdict"]) == ("on_premises", "unknown")
    assert "sends 0.0.0.0/0 to VirtualNetworkGateway" in after["reason"]
    locations = [e["ResponseHeaders"].get("Location", "") for e in scrubbed["Entries"] if e["StatusCode"] == 202]
    assert locations and all(SUB not in location for location in locations)
