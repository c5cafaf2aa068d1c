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
from tests.recordings import run_cli

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

    assert status is ExitStatus.INCOMPLETE
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
