"""Issue 23: hostile answers, round two. Each case goes through the command line, in-process, on the bundled
Contoso recording (or a small tenant) changed the way an attacker or a broken service would change it."""

from __future__ import annotations

import copy
import csv
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from auditor.status import ExitStatus
from fixtures import arm_payloads as arm
from tests.conftest import CONTOSO, CONTOSO_CONFIG
from tests.recordings import EVERY_FORMAT, run_cli
from tests.test_egress import VM

CONTOSO_DOCUMENT: dict[str, Any] = json.loads(CONTOSO.read_text(encoding="utf-8"))
# A scan of a recording of the bundled tenant's size ends within this, whatever its pages say (issue 23).
BOUND_SECONDS = 60


def contoso() -> dict[str, Any]:
    return copy.deepcopy(CONTOSO_DOCUMENT)


def entries_at(document: dict[str, Any], ends_with: str, method: str = "GET") -> list[dict[str, Any]]:
    found = [
        e
        for e in document["Entries"]
        if e["RequestMethod"] == method and urlsplit(e["RequestUri"]).path.endswith(ends_with)
    ]
    assert found, f"the recording has no {method} …{ends_with}"
    return found


def scan(
    tmp_path: Path, document: dict[str, Any], *options: str, config: Path | None = CONTOSO_CONFIG
) -> tuple[ExitStatus, str, str, Path]:
    """The CLI over the recording, in a thread that must end within BOUND_SECONDS."""
    path = tmp_path / "recording.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "reports"
    argv = ["scan", "--replay", str(path), "--out", str(out), *(["--config", str(config)] if config else []), *options]
    done: list[tuple[ExitStatus, str, str]] = []
    worker = threading.Thread(target=lambda: done.append(run_cli(*argv)), daemon=True)
    worker.start()
    worker.join(BOUND_SECONDS)
    assert done, f"the scan did not end within {BOUND_SECONDS} s"
    status, stdout, stderr = done[0]
    assert "Traceback" not in stderr
    return status, stdout, stderr, out


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def respelled(uri: str, spelling: str) -> str:
    """The same page's URL spelled another way: as it is, with a `/x/..` before its last segment, or with a
    doubled slash there."""
    parts = urlsplit(uri)
    head, _, last = parts.path.rpartition("/")
    path = {"same": parts.path, "dot-segment": f"{head}/x/../{last}", "double-slash": f"{head}//{last}"}[spelling]
    return parts._replace(path=path).geturl()


# Every list read under an item, and the tenant-wide lists, in the bundled tenant: (path ending, where its error
# shows). Each spelling of a loop back is tried on one of them in turn.
LOOPED_LISTS = [
    ("/ruleCollectionGroups", "double-slash"),
    ("/hubVirtualNetworkConnections", "dot-segment"),
    ("/routingIntent", "same"),
    ("/hubRouteTables", "double-slash"),
    ("/slots", "dot-segment"),
    ("/billingAccounts", "same"),
    ("/billingSubscriptions", "dot-segment"),
    ("/providers/Microsoft.Compute/virtualMachines", "dot-segment"),
    ("/providers/Microsoft.Network/networkSecurityGroups", "double-slash"),
]


@pytest.mark.parametrize(("ending", "spelling"), LOOPED_LISTS, ids=[e.rsplit("/", 1)[-1] for e, _ in LOOPED_LISTS])
def test_a_page_leading_back_to_itself_ends_its_list_as_an_error(tmp_path: Path, ending: str, spelling: str) -> None:
    """Issue 23.5: in every list, however the nextLink spells the page already read."""
    document = contoso()
    for entry in entries_at(document, ending):
        if entry["StatusCode"] == 200:
            entry["ResponseBody"]["nextLink"] = respelled(entry["RequestUri"], spelling)

    status, _, stderr, out = scan(tmp_path, document)

    assert status is ExitStatus.INCOMPLETE
    said = stderr + (out / "scan.json").read_text(encoding="utf-8")
    assert "led back to a page already read" in said


def test_a_two_page_cycle_in_a_child_list_ends_as_an_error(tmp_path: Path) -> None:
    """Issue 23.5: page 1 → page 2 → page 1, under a firewall policy."""
    document = contoso()
    first = entries_at(document, "/ruleCollectionGroups")[0]
    second = copy.deepcopy(first)
    second["RequestUri"] = first["RequestUri"] + "&$skiptoken=2"
    second["ResponseBody"] = {"value": [], "nextLink": first["RequestUri"]}
    first["ResponseBody"]["nextLink"] = second["RequestUri"]
    document["Entries"].append(second)

    status, _, stderr, _ = scan(tmp_path, document)

    assert status is ExitStatus.INCOMPLETE
    assert "ruleCollectionGroups" in stderr and "led back to a page already read" in stderr


def test_management_group_descendants_that_loop_end_as_an_error(tmp_path: Path) -> None:
    """Issue 23.5: a descendants page that leads back to itself."""
    document = contoso()
    group = "mg-contoso"
    uri = f"{arm.ARM}{arm.descendants_path(group)}?api-version={arm.API['management']}"
    document["Entries"].append(
        {
            **entries_at(document, "/subscriptions")[0],
            "RequestUri": uri,
            "ResponseBody": {"value": [], "nextLink": respelled(uri, "dot-segment")},
        }
    )

    status, _, stderr, _ = scan(tmp_path, document, "--management-group", group)

    assert status is ExitStatus.NOTHING_AUDITED  # its only scope could not be read: nothing audited
    assert "led back to a page already read" in stderr


def test_config_web_that_cannot_be_read_makes_the_app_unknown_naming_it(tmp_path: Path) -> None:
    """Issue 23.13: not a verdict from the payload alone."""
    document = contoso()
    (config,) = [e for e in entries_at(document, "/config/web") if "/slots/" not in e["RequestUri"]][:1]
    config["StatusCode"] = 500
    config["ResponseBody"] = {"error": {"code": "InternalServerError", "message": "try later"}}
    site_name = urlsplit(config["RequestUri"]).path.split("/")[-3]

    status, _, _, out = scan(tmp_path, document)

    assert status is ExitStatus.INCOMPLETE
    (finding,) = [r for r in rows(out / "findings.csv") if r["resource_name"] == site_name]
    assert finding["verdict"] == "unknown"
    assert "config/web" in finding["reason"] and "could not be read" in finding["reason"]


@pytest.mark.parametrize("body", [[{"properties": {"vnetRouteAllEnabled": True}}], "not json at all"])
def test_config_web_that_is_not_an_object_is_an_error_of_that_list(tmp_path: Path, body: Any) -> None:
    """Issue 23.10: a config/web answering a JSON list (or text) is malformed, not a crash."""
    document = contoso()
    (config,) = [e for e in entries_at(document, "/config/web") if "/slots/" not in e["RequestUri"]][:1]
    config["ResponseBody"] = body
    site_name = urlsplit(config["RequestUri"]).path.split("/")[-3]

    status, _, stderr, out = scan(tmp_path, document)

    assert status is ExitStatus.INCOMPLETE and "config/web" in stderr
    (finding,) = [r for r in rows(out / "findings.csv") if r["resource_name"] == site_name]
    assert finding["verdict"] == "unknown"


def _group_tenant(items: list[Any]) -> dict[str, Any]:
    recording = arm.Recording()
    known = arm.sub_id("known")
    recording.record("/subscriptions", "subscriptions", arm.page([arm.subscription("known", "Known", "MSDN_2014")]))
    recording.record_subscription(known, vms=[arm.vm(known, "rg", "vm-known")])
    recording.record(arm.descendants_path("mg-root"), "management", arm.page(items))
    recording.record_billing([])
    return recording.document()


def test_management_group_items_that_are_not_subscriptions_are_named_not_made_rows(tmp_path: Path) -> None:
    """Issue 23.14: an item without a name, a name that is not a subscription id, an item of another type."""
    known = arm.sub_id("known")
    nameless = arm.management_group_subscription(known, "x", "mg-root")
    del nameless["name"]
    items = [
        arm.management_group_subscription(known, "Known", "mg-root"),
        nameless,
        {**arm.management_group_subscription(known, "y", "mg-root"), "name": "123"},
        {**arm.management_group_entity("mg-child", "Child", "mg-root"), "type": "Microsoft.Storage/whatever"},
        "not an object",
    ]

    status, _, stderr, out = scan(tmp_path, _group_tenant(items), "--management-group", "mg-root", config=None)

    assert status is ExitStatus.INCOMPLETE
    subscriptions = rows(out / "subscriptions.csv")
    assert [s["subscription_id"] for s in subscriptions] == [known]  # no empty id, no "123"
    assert "4 item(s) could not be understood" in stderr
    assert "not a subscription id" in stderr and "Microsoft.Storage/whatever" in stderr


# A hub (EA) whose VNet firewall has a firewall policy; a spoke (EA) peered with it routes 0.0.0.0/0 to it.
HUB_IP = "10.200.0.4"


def hub_and_spoke(
    groups: list[dict[str, Any]] | Callable[[str], list[dict[str, Any]]],
    *,
    ip_groups: list[dict[str, Any]] | None = None,
    spoke_vms: int = 1,
) -> dict[str, Any]:
    """`groups`: the policy's rule collection groups (or a function of the policy id that makes them)."""
    from tests.test_egress import GROUP, recorded, spoke, vnet_id

    hub = arm.sub_id("hub")
    policy = arm.rid(hub, GROUP, "Microsoft.Network/firewallPolicies", "hub-policy")
    lists = spoke("hub", prefix="10.200", firewall_ip=HUB_IP)
    lists["firewalls"] = [arm.firewall(hub, GROUP, "fw", "vnet", HUB_IP, policy=policy)]
    made = groups(policy) if callable(groups) else groups
    lists["firewall_policies"] = [arm.firewall_policy(hub, GROUP, "hub-policy", [g.get("name", "g") for g in made])]
    lists["ip_groups"] = ip_groups or []
    spoke_lists = spoke("spoke", routes=[("to-hub", "0.0.0.0/0", "VirtualAppliance", HUB_IP)], peers=[vnet_id("hub")])
    if spoke_vms > 1:
        sub = arm.sub_id("spoke")
        subnet_id = arm.subnet(sub, GROUP, "vnet", "snet")
        spoke_lists["vms"] = [arm.vm(sub, GROUP, f"vm-{n}") for n in range(spoke_vms)]
        spoke_lists["nics"] = [
            arm.nic(sub, GROUP, f"vm-{n}-nic", subnet_id, f"10.1.1.{n + 4}", vm_name=f"vm-{n}")
            for n in range(spoke_vms)
        ]
    return recorded(
        {"spoke": ("EnterpriseAgreement_2014-09-01", spoke_lists), "hub": ("EnterpriseAgreement_2014-09-01", lists)},
        children=[(policy, "ruleCollectionGroups", made, 200)],
    )


def allow_smtp_group(policy: str, **collection: Any) -> dict[str, Any]:
    return arm.rule_collection_group(
        policy,
        "egress",
        100,
        [
            {
                "name": "allow-smtp",
                "priority": 200,
                "action": "Allow",
                "rules": [arm.network_rule("smtp", ["25"], sources=["*"])],
                **collection,
            }
        ],
    )


def _broken(change: Callable[[dict[str, Any]], None]) -> Callable[[str], list[dict[str, Any]]]:
    def groups(policy: str) -> list[dict[str, Any]]:
        group = allow_smtp_group(policy)
        change(group)
        return [group]

    return groups


def _collection(group: dict[str, Any]) -> dict[str, Any]:
    collection: dict[str, Any] = group["properties"]["ruleCollections"][0]
    return collection


MALFORMED_GROUPS = {
    "ruleCollections an object": lambda g: g["properties"].update(ruleCollections={"a": _collection(g)}),
    "rules as text": lambda g: _collection(g).update(rules="allow everything"),
    "a collection that is not an object": lambda g: g["properties"]["ruleCollections"].append("deny-all"),
    "no ruleCollectionType": lambda g: _collection(g).pop("ruleCollectionType"),
    "properties null": lambda g: g.update(properties=None),
    "numeric ipProtocols": lambda g: _collection(g)["rules"][0].update(ipProtocols=[6]),
    "a rule that is not an object": lambda g: _collection(g)["rules"].append(7),
    "a priority of 1e999 on the group": lambda g: g["properties"].update(priority=float("inf")),
    "a priority of 1e999 on a collection": lambda g: _collection(g).update(priority=float("inf")),
}


@pytest.mark.parametrize("change", list(MALFORMED_GROUPS.values()), ids=list(MALFORMED_GROUPS))
def test_a_rule_collection_group_that_cannot_be_read_makes_the_firewall_unknown_never_a_deny(
    tmp_path: Path, change: Callable[[dict[str, Any]], None]
) -> None:
    """Issue 23.10 and 23.11: the spoke and the firewall are unknown, naming the policy's groups; exit 2."""
    status, _, stderr, out = scan(tmp_path, hub_and_spoke(_broken(change)), config=None)

    assert status is ExitStatus.INCOMPLETE, stderr
    assert "ruleCollectionGroups" in stderr
    findings = {r["resource_name"]: r for r in rows(out / "findings.csv")}
    assert findings[VM]["verdict"] == "unknown" and findings["fw"]["verdict"] == "unknown"
    assert "rule collection groups of policy hub-policy could not be read" in findings[VM]["reason"]


def test_the_same_group_well_formed_lets_the_spoke_out(tmp_path: Path) -> None:
    """The control for the cases above: an allow of TCP 25 from anywhere."""
    status, _, stderr, out = scan(tmp_path, hub_and_spoke(lambda p: [allow_smtp_group(p)]), config=None)

    assert status is ExitStatus.SUCCESS, stderr
    findings = {r["resource_name"]: r for r in rows(out / "findings.csv")}
    assert findings[VM]["verdict"] == "open"


def test_an_unparsable_source_beside_the_ip_group_holding_the_sender_keeps_the_allow(tmp_path: Path) -> None:
    """Issue 23.11: 'garbage' cannot be read, but the IP group beside it holds the sender: the allow applies."""
    from tests.test_egress import GROUP

    hub = arm.sub_id("hub")
    spokes = arm.rid(hub, GROUP, "Microsoft.Network/ipGroups", "ipg-spokes")

    def groups(policy: str) -> list[dict[str, Any]]:
        rule = arm.network_rule("smtp", ["25"], sources=["not-an-address"], source_groups=[spokes])
        collection = {"name": "allow-spokes", "priority": 200, "action": "Allow", "rules": [rule]}
        return [arm.rule_collection_group(policy, "egress", 100, [collection])]

    ip_groups = [arm.ip_group(hub, GROUP, "ipg-spokes", ["10.1.0.0/16"])]
    status, _, stderr, out = scan(tmp_path, hub_and_spoke(groups, ip_groups=ip_groups), config=None)

    assert status is ExitStatus.SUCCESS, stderr
    findings = {r["resource_name"]: r for r in rows(out / "findings.csv")}
    assert findings[VM]["verdict"] == "open"


def test_a_classic_collection_priority_of_infinity_makes_that_firewall_unknown(tmp_path: Path) -> None:
    """Issue 23.10: classic rules of a VNet firewall, priority 1e999 (JSON reads it as infinity)."""
    from tests.test_egress import recorded, spoke, vnet_id

    hub = spoke("hub", prefix="10.200", firewall_ip=HUB_IP)
    hub["firewalls"][0]["properties"]["networkRuleCollections"][0]["properties"]["priority"] = float("inf")  # type: ignore[index]
    route = [("to-hub", "0.0.0.0/0", "VirtualAppliance", HUB_IP)]
    document = recorded(
        {
            "spoke": ("EnterpriseAgreement_2014-09-01", spoke("spoke", routes=route, peers=[vnet_id("hub")])),
            "hub": ("EnterpriseAgreement_2014-09-01", hub),
        }
    )
    status, _, stderr, out = scan(tmp_path, document, config=None)

    assert status is not ExitStatus.SOFTWARE, stderr
    findings = {r["resource_name"]: r for r in rows(out / "findings.csv")}
    assert findings["fw"]["verdict"] == "unknown" and findings[VM]["verdict"] == "unknown"
    assert "classic network rules could not be read" in findings["fw"]["reason"]


@pytest.mark.parametrize("priority", ["100", float("inf")], ids=["text", "1e999"])
def test_an_nsg_rule_with_a_bad_priority_is_an_error_of_that_nsg_alone(tmp_path: Path, priority: Any) -> None:
    """Issue 23.10 and 23.12: the other NSGs of the subscription are read; the VM behind the bad one is unknown."""
    from tests.test_egress import GROUP, recorded, spoke

    lists = spoke("ea", subnet_rules=[{"name": "deny-smtp", "priority": 100, "access": "Deny"}], nic_rules=[])
    sub = arm.sub_id("ea")
    bad, good = lists["nsgs"]  # type: ignore[misc]
    assert bad["name"] == "nsg-nic"
    bad["properties"]["securityRules"].append(
        {**good["properties"]["securityRules"][0], "name": "odd", "properties": {
            **good["properties"]["securityRules"][0]["properties"], "priority": priority}}
    )  # fmt: skip
    status, _, stderr, out = scan(tmp_path, recorded({"ea": ("EnterpriseAgreement_2014-09-01", lists)}), config=None)

    assert status is ExitStatus.INCOMPLETE, stderr
    assert "nsg-nic" in stderr and "priority that is not a whole number" in stderr
    assert arm.nsg_id(sub, GROUP, "nsg-subnet") not in stderr
    (finding,) = rows(out / "findings.csv")
    assert finding["verdict"] == "unknown" and "nsg-nic" in finding["reason"]


def test_the_same_vm_twice_in_one_list_is_one_finding_and_said_for_that_list(tmp_path: Path) -> None:
    """Issue 23.17."""
    from tests.test_egress import recorded, spoke

    lists = spoke("ea")
    lists["vms"] = [*lists["vms"], copy.deepcopy(lists["vms"][0])]  # type: ignore[misc]
    status, _, stderr, out = scan(tmp_path, recorded({"ea": ("EnterpriseAgreement_2014-09-01", lists)}), config=None)

    assert status is ExitStatus.INCOMPLETE
    assert [r["resource_name"] for r in rows(out / "findings.csv")] == [VM]
    (subscription,) = rows(out / "subscriptions.csv")
    assert subscription["collection"].startswith("virtualMachines:") and "more than once" in subscription["collection"]
    assert "more than once" in stderr


@pytest.mark.parametrize(
    ("next_hop", "named"),
    [
        (
            "/providers/Microsoft.Network/networkVirtualAppliances/nva-hub",
            "network virtual appliance nva-hub in the hub",
        ),
        (
            "/providers/Microsoft.Network/virtualHubs/HUB/hubVirtualNetworkConnections/conn-nva",
            "hub connection conn-nva",
        ),
    ],
    ids=["nva", "hub-connection"],
)
def test_a_virtual_wan_next_hop_that_is_not_a_firewall_is_named_for_what_it_is(
    tmp_path: Path, next_hop: str, named: str
) -> None:
    """Issue 23.15: not 'Azure Firewall … was not collected'."""
    document = contoso()
    (intent,) = entries_at(document, "/routingIntent")
    hub_id = urlsplit(intent["RequestUri"]).path.rsplit("/routingIntent", 1)[0]
    group_path = hub_id.split("/providers/")[0]
    hop = group_path + next_hop.replace("HUB", hub_id.rsplit("/", 1)[-1])
    for policy in intent["ResponseBody"]["value"][0]["properties"]["routingPolicies"]:
        if "Internet" in policy["destinations"]:
            policy["nextHop"] = hop

    _, _, _, out = scan(tmp_path, document)

    behind = [r for r in rows(out / "findings.csv") if named in r["reason"]]
    assert behind, "no finding names the hub's next hop"
    assert all(r["egress"] == "appliance" and "was not collected" not in r["reason"] for r in behind)
    assert all(r["verdict"] in ("unknown", "blocked") for r in behind)


def _peak_rss_of_cli(*argv: str) -> tuple[int, int, str]:
    """Run the installed CLI in a process of its own: its exit code, its peak resident memory in bytes, stderr."""
    import os
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "auditor", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss * 1024, stderr


@pytest.mark.slow
def test_a_huge_file_in_the_history_folder_is_not_read_whole(tmp_path: Path) -> None:
    """Issue 23.8: a 2 GB file named as a kept run (its head not a scan.json) costs nothing like 2 GB of memory,
    and a kept run is still counted."""
    history = tmp_path / "history"
    history.mkdir()
    with (history / "scan-20260101T000000Z.json").open("wb") as huge:
        huge.truncate(2 << 30)  # sparse: two gigabytes of zero bytes
    out = tmp_path / "reports"
    argv = ["scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out)]
    status, peak, stderr = _peak_rss_of_cli(*argv, "--history", str(history))

    assert status == ExitStatus.INCOMPLETE, stderr  # the bundled tenant's two 403s
    assert peak < 1 << 30, f"peak resident memory {peak >> 20} MiB"
    assert "scan-20260101T000000Z.json is not a port25-audit scan.json" in stderr
    assert len(list(history.glob("scan-*.json"))) == 2  # this run kept beside it


def test_history_that_cannot_be_kept_is_said_as_the_history_folder_not_the_reports(tmp_path: Path) -> None:
    """Issue 23.16: the reports were written; the history folder is what failed."""
    history = tmp_path / "history"
    history.write_text("a file where the folder should be", encoding="utf-8")

    status, _, stderr, out = scan(tmp_path, contoso(), "--history", str(history))

    assert status is ExitStatus.CANT_CREATE
    assert (out / "findings.csv").exists()
    assert f"could not be kept in the --history folder {history}" in stderr
    assert "cannot write the reports" not in stderr


DEEP_CONFIGS = {
    "arrays 100,000 deep": "x = " + "[" * 100_000 + "]" * 100_000 + "\n",
    "inline tables 100,000 deep": "x = " + "{a = " * 100_000 + "1" + "}" * 100_000 + "\n",
    "a value nested 100,000 deep": "x = [" + "[1, " * 100_000 + "]" * 100_001 + "\n",
    "a dotted key 50,000 levels deep": "# a comment\n" + "a" + ".a" * 50_000 + " = 1\n",
}


@pytest.mark.parametrize("text", list(DEEP_CONFIGS.values()), ids=list(DEEP_CONFIGS))
def test_a_config_nested_too_deep_is_refused_before_it_is_parsed(tmp_path: Path, text: str) -> None:
    """Issue 23.7: exit 64 with the line, not 70 (RecursionError) or gigabytes of memory."""
    config = tmp_path / "audit.toml"
    config.write_text(text, encoding="utf-8")

    status, _, stderr, _ = scan(tmp_path, contoso(), config=config)

    assert status is ExitStatus.USAGE
    assert stderr.startswith(f"port25-audit: {config}: line ") and len(stderr.splitlines()) == 1
    assert "64" in stderr


def test_a_config_written_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    """Issue 23.7: Windows PowerShell 5.1's `Out-File -Encoding utf8` writes a BOM."""
    config = tmp_path / "audit.toml"
    config.write_bytes(b"\xef\xbb\xbf" + CONTOSO_CONFIG.read_bytes())

    status, _, stderr, out = scan(tmp_path, contoso(), config=config)

    assert status is ExitStatus.INCOMPLETE, stderr  # as the bundled tenant without the BOM
    assert "Invalid statement" not in stderr
    (tmp_path / "plain").mkdir()
    plain = scan(tmp_path / "plain", contoso())[3]
    assert (out / "findings.csv").read_bytes() == (plain / "findings.csv").read_bytes()


@pytest.mark.slow
def test_a_reason_names_ten_rules_and_counts_the_rest(tmp_path: Path) -> None:
    """Issue 23.9: 20,000 allow rules to different partner addresses make reasons of a few hundred characters, not
    megabytes."""

    def groups(policy: str) -> list[dict[str, Any]]:
        rules = [
            arm.network_rule(f"partner-{n}", ["25"], sources=["*"], destinations=[f"203.{n // 256}.{n % 256}.1/32"])
            for n in range(20_000)
        ]
        return [arm.rule_collection_group(policy, "egress", 100, [{"name": "partners", "priority": 200,
                                                                   "action": "Allow", "rules": rules}])]  # fmt: skip

    status, _, stderr, out = scan(tmp_path, hub_and_spoke(groups), config=None)

    assert status is ExitStatus.SUCCESS, stderr
    findings = {r["resource_name"]: r for r in rows(out / "findings.csv")}
    # issue 25.7: the partners' relays are on the internet, so the path is open to them, named and counted
    assert findings[VM]["verdict"] == "open"
    assert "allows TCP 25 only to 203.0.0.1/32, 203.0.1.1/32, " in findings[VM]["reason"]
    assert "and 19,990 more destinations" in findings[VM]["reason"]
    assert max(len(r["reason"]) for r in findings.values()) < 5_000
    assert (out / "findings.csv").stat().st_size < 50_000
    assert (out / "scan.json").stat().st_size < 500_000
    assert (out / "report.html").stat().st_size < 2_000_000


@pytest.mark.slow
def test_ip_groups_of_a_hundred_thousand_addresses_are_looked_up_not_parsed_per_sender(tmp_path: Path) -> None:
    """Issue 23.6: twenty IP groups of 5,000 /32s, 200 senders in one spoke subnet (the groups split it, so each
    sender is decided for itself): the scan ends within the bound, and the senders the groups hold are let out."""
    from tests.test_egress import GROUP

    hub = arm.sub_id("hub")
    group_ids = [arm.rid(hub, GROUP, "Microsoft.Network/ipGroups", f"ipg-{g}") for g in range(20)]
    # group 0 holds the spoke's even senders (10.1.1.4, .6, …); the rest hold 10.50.x.y addresses
    held = [f"10.1.1.{n + 4}/32" for n in range(0, 200, 2)]
    others = [[f"10.{50 + g}.{n // 250}.{n % 250}/32" for n in range(5_000)] for g in range(1, 20)]
    ip_groups = [arm.ip_group(hub, GROUP, f"ipg-{g}", addresses) for g, addresses in enumerate([held, *others])]

    def groups(policy: str) -> list[dict[str, Any]]:
        rule = arm.network_rule("smtp", ["25"], source_groups=group_ids)
        return [arm.rule_collection_group(policy, "egress", 100, [{"name": "senders", "priority": 200,
                                                                   "action": "Allow", "rules": [rule]}])]  # fmt: skip

    status, _, stderr, out = scan(tmp_path, hub_and_spoke(groups, ip_groups=ip_groups, spoke_vms=200), config=None)

    assert status is ExitStatus.SUCCESS, stderr
    verdicts = {
        r["resource_name"]: r["verdict"] for r in rows(out / "findings.csv") if r["resource_name"].startswith("vm-")
    }
    assert len(verdicts) == 200
    assert all(verdicts[f"vm-{n}"] == ("open" if n % 2 == 0 else "denied_by_network") for n in range(200))


UPLOAD_REFUSED = {
    "a dot-dot segment (emulator)": "https://127.0.0.1:10000/devstoreaccount1/cont1/../c2/p",
    "a dot-dot segment": "https://acct.blob.core.windows.net/cont1/../c2/p",
    "an encoded dot-dot segment": "https://acct.blob.core.windows.net/cont1/%2e%2e/c2/p",
    "a dot segment": "https://acct.blob.core.windows.net/cont1/./p",
    "an empty segment": "https://acct.blob.core.windows.net/cont1//p",
    "any https host": "https://192.0.2.2:8443/cont1/p",
    "a look-alike host": "https://acct.blob.core.windows.net.attacker.example/cont1/p",
    "a host under the suffix": "https://a.b.blob.core.windows.net/cont1/p",
    "another port": "https://acct.blob.core.windows.net:8443/cont1/p",
}


@pytest.mark.parametrize("url", list(UPLOAD_REFUSED.values()), ids=list(UPLOAD_REFUSED))
def test_upload_refuses_a_url_that_could_leave_its_container_or_its_cloud(tmp_path: Path, url: str) -> None:
    """Issue 23.2 and 23.3: refused on the command line, before anything is read or sent (exit 64)."""
    status, _, stderr, out = scan(tmp_path, contoso(), "--upload", url)

    assert status is ExitStatus.USAGE, stderr
    assert not out.exists()
    assert len(stderr.splitlines()) == 1


def test_upload_to_another_cloud_s_storage_is_refused(tmp_path: Path) -> None:
    """Issue 23.3: the scan's token goes only to its own cloud's blob endpoint."""
    status, _, stderr, _ = scan(
        tmp_path, contoso(), "--cloud", "china", "--upload", "https://acct.blob.core.windows.net/cont1/p"
    )

    assert status is ExitStatus.USAGE and "another cloud" in stderr


@pytest.mark.parametrize(
    "url",
    [
        "https://user:Pa55-SECRET@acct.blob.core.windows.net/cont1/p",
        "https://acct.blob.core.windows.net/cont1/p?sv=2024&sig=SECRET%3D",
        "https://acct.blob.core.windows.net/cont1/p#SECRET",
        "https://acct.blob.core.windows.net.attacker.example/cont1/p?sig=SECRET",
    ],
    ids=["userinfo", "sas", "fragment", "look-alike-with-sas"],
)
def test_a_rejected_upload_url_is_never_echoed_with_its_secrets(tmp_path: Path, url: str) -> None:
    """Issue 23.4: stderr goes into CI logs."""
    status, _, stderr, _ = scan(tmp_path, contoso(), "--upload", url)

    assert status is ExitStatus.USAGE
    assert "SECRET" not in stderr and "Pa55" not in stderr
    assert "blob.core.windows.net" in stderr  # the host is still named, so the user sees which URL


@pytest.mark.parametrize("answer", ["403", "missing"])
def test_a_next_link_s_secret_never_reaches_stderr_or_a_report(tmp_path: Path, answer: str) -> None:
    """Issue 23.4: a nextLink carrying sig= and code= whose page answers 403, or is not in the recording."""
    document = contoso()
    first = next(
        e for e in entries_at(document, "/providers/Microsoft.Compute/virtualMachines") if e["StatusCode"] == 200
    )
    next_link = first["RequestUri"] + "&$skiptoken=2&sig=SECRET-SIG&code=SECRET-CODE"
    first["ResponseBody"]["nextLink"] = next_link
    if answer == "403":
        denied = arm.authorization_failed("x", f"read {next_link}")
        document["Entries"].append({**first, "RequestUri": next_link, "StatusCode": 403, "ResponseBody": denied})

    status, _, stderr, out = scan(tmp_path, document, "--format", EVERY_FORMAT, "--verbose")

    assert status is ExitStatus.INCOMPLETE
    assert "skiptoken" in stderr  # the failing page is named…
    written = [stderr] + [p.read_bytes().decode("utf-8", "replace") for p in out.iterdir() if p.suffix != ".xlsx"]
    import zipfile

    with zipfile.ZipFile(out / "findings.xlsx") as book:
        written += [book.read(part).decode("utf-8", "replace") for part in book.namelist()]
    for text in written:
        assert "SECRET" not in text  # …without its secrets


PLANTED = {
    "connection string password": "Password=Pl4nted-ConnStr-Secret;",
    "app setting value": "planted-app-setting-value-7731",
    "storage access key": "planted-storage-access-key-QUJD==",
    "publishing password": "planted-publishing-password-19",
    "client secret": "planted-client-secret~xyz",
    "metadata value": "planted-metadata-value-42",
    "inserted header value": "planted-header-value-X-Api-Key",
    "rule description": "planted rule description about payroll",
    "policy description": "planted policy description of the ERP",
    "partner domain": "relay.planted-partner.example",
    "key vault": "kv-planted-secrets",
    "custom host name": "mail.planted-contoso-brand.example",
    "domain verification id": "PLANTEDVERIFICATION0123456789ABCDEF",
    "sas url": "https://plantedacct.blob.core.windows.net/c/b?sv=2024&sig=PLANTEDSIG",
    "container app fqdn": "planted-app.kindriver-1234.westeurope.azurecontainerapps.io",
    "public host in a restriction": "52.168.1.99",
}


def planted_tenant() -> dict[str, Any]:
    """The bundled tenant with a secret in every field issue 23.1 lists, where Azure puts it."""
    document = contoso()
    for config in entries_at(document, "/config/web"):
        config["ResponseBody"]["properties"].update(
            connectionStrings=[{"name": "db", "connectionString": f"Server=x;{PLANTED['connection string password']}"}],
            appSettings=[{"name": "SECRET_SETTING", "value": PLANTED["app setting value"]}],
            azureStorageAccounts={"files": {"accountName": "acct", "accessKey": PLANTED["storage access key"]}},
            publishingPassword=PLANTED["publishing password"],
            siteAuthSettings={"clientSecret": PLANTED["client secret"]},
            metadata=[{"name": "CURRENT_STACK", "value": PLANTED["metadata value"]}],
            ipSecurityRestrictions=[{"ipAddress": f"{PLANTED['public host in a restriction']}/32", "action": "Allow"}],
        )
    for sites in entries_at(document, "/providers/Microsoft.Web/sites"):
        for site in sites["ResponseBody"].get("value", []):
            site["properties"].update(
                hostNames=[PLANTED["custom host name"]],
                customDomainVerificationId=PLANTED["domain verification id"],
                backupUrl=PLANTED["sas url"],
            )
    for policies in entries_at(document, "/providers/Microsoft.Network/firewallPolicies"):
        for policy in policies["ResponseBody"]["value"]:
            policy["properties"].update(
                description=PLANTED["policy description"],
                transportSecurity={"certificateAuthority": {"keyVaultSecretId": f"https://{PLANTED['key vault']}"
                                                            ".vault.azure.net/secrets/ca"}},
            )  # fmt: skip
    for groups in entries_at(document, "/ruleCollectionGroups"):
        for group in groups["ResponseBody"]["value"]:
            collections = group["properties"]["ruleCollections"]
            for collection in collections:
                for rule in collection["rules"]:
                    rule["description"] = PLANTED["rule description"]
            collections.append(
                {
                    "ruleCollectionType": "FirewallPolicyFilterRuleCollection",
                    "name": "partners",
                    "priority": 4000,
                    "action": {"type": "Allow"},
                    "rules": [
                        {
                            "ruleType": "ApplicationRule",
                            "name": "api",
                            "sourceAddresses": ["*"],
                            "protocols": [{"protocolType": "Https", "port": 443}],
                            "targetFqdns": ["api.example"],
                            "httpHeadersToInsert": [{"header": "X-Api-Key", "value": PLANTED["inserted header value"]}],
                        },
                        arm.network_rule(
                            "relay", ["25"], destinations=[], destination_fqdns=[PLANTED["partner domain"]]
                        ),
                    ],
                }
            )
    for apps in entries_at(document, "/providers/Microsoft.App/containerApps"):
        for app in apps["ResponseBody"]["value"]:
            app["properties"]["configuration"] = {"ingress": {"fqdn": PLANTED["container app fqdn"]}}
    return document


def test_a_scrubbed_recording_holds_no_secret_of_any_list_and_replays_to_the_same_verdicts(tmp_path: Path) -> None:
    """Issue 23.1: scrubbed by allow-list. Every planted value is in the tenant given to `record`."""
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps(planted_tenant()), encoding="utf-8")
    text = planted.read_text(encoding="utf-8")
    assert all(value in text for value in PLANTED.values())
    scrubbed = tmp_path / "scrubbed.json"

    status, _, stderr = run_cli("record", "--replay", str(planted), "--scrub", "--out", str(scrubbed))

    assert status is ExitStatus.INCOMPLETE, stderr
    kept = scrubbed.read_text(encoding="utf-8")
    assert [name for name, value in PLANTED.items() if value.lower() in kept.lower()] == []
    assert "planted" not in kept.lower()
    (tmp_path / "original").mkdir()
    (tmp_path / "replayed").mkdir()
    # no audit config: it names the original subscription ids
    original = scan(tmp_path / "original", json.loads(text), config=None)[3]
    replayed = scan(tmp_path / "replayed", json.loads(kept), config=None)[3]
    columns = ("resource_type", "kind", "location", "offer", "platform_policy", "egress", "verdict", "rule")
    assert sorted(tuple(r[c] for c in columns) for r in rows(original / "findings.csv")) == sorted(
        tuple(r[c] for c in columns) for r in rows(replayed / "findings.csv")
    )


def test_record_says_what_each_management_group_became_in_the_scrubbed_recording(tmp_path: Path) -> None:
    """Issue 23.1: a replay with the same --management-group would find nothing, without a word."""
    document = _group_tenant([arm.management_group_subscription(arm.sub_id("known"), "Known", "mg-root")])
    given = tmp_path / "tenant.json"
    given.write_text(json.dumps(document), encoding="utf-8")
    scrubbed = tmp_path / "scrubbed.json"

    status, _, stderr = run_cli(
        "record", "--replay", str(given), "--scrub", "--management-group", "mg-root", "--out", str(scrubbed)
    )

    assert status is ExitStatus.SUCCESS, stderr
    (line,) = [line for line in stderr.splitlines() if "management group mg-root is" in line]
    replaced = line.split(" is ", 1)[1].split()[0]
    assert replaced != "mg-root" and "mg-root" not in scrubbed.read_text(encoding="utf-8")
    status, _, stderr, out = scan(tmp_path, json.loads(scrubbed.read_text(encoding="utf-8")), "--management-group",
                                  replaced, config=None)  # fmt: skip
    assert status is ExitStatus.SUCCESS, stderr
    assert len(rows(out / "findings.csv")) == 1
