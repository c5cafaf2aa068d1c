"""Issue 13, "done when": arbitrary JSON in a recording's list bodies and subscription list, and arbitrary text in
every name field, through the whole pipeline and every format. The exit code is never 70, every report parses,
nothing printed to the terminal holds a control character, and every subscription of the list is in
subscriptions.csv."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.status import ExitStatus
from fixtures import arm_payloads as arm
from tests.recordings import EVERY_FORMAT, run_cli
from tests.test_hostile import tenant

pytestmark = pytest.mark.slow  # property tests: a whole scan per example
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# any character, lone surrogates and controls included
texts = st.text(st.characters(exclude_categories=()), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=20,
)
FORMATS = ("--format", EVERY_FORMAT)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEWER = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a bundled tenant each


def _run(document: dict[str, Any], *options: str) -> tuple[ExitStatus, str, str, Path]:
    folder = Path(tempfile.mkdtemp(prefix="port25-property-"))
    recording = folder / "recording.json"
    recording.write_text(json.dumps(document), encoding="utf-8")
    argv = ["scan", "--replay", str(recording), "--out", str(folder / "out"), *FORMATS, *options]
    status, stdout, stderr = run_cli(*argv)
    return status, stdout, stderr, folder / "out"


def _check(status: ExitStatus, stdout: str, stderr: str, out: Path, subscriptions: list[str]) -> None:
    assert status is not ExitStatus.SOFTWARE, stderr
    assert "Traceback" not in stderr
    assert not CONTROL.search(stdout) and not CONTROL.search(stderr), repr((stdout, stderr))
    with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
        list(csv.DictReader(stream))
    with (out / "subscriptions.csv").open(encoding="utf-8", newline="") as stream:
        listed = {row["subscription_id"] for row in csv.DictReader(stream)}
    assert set(subscriptions) <= listed
    json.loads((out / "scan.json").read_text(encoding="utf-8"))
    HTMLParser().feed((out / "report.html").read_text(encoding="utf-8"))
    openpyxl.load_workbook(io.BytesIO((out / "findings.xlsx").read_bytes()))


@SETTINGS
@given(body=json_values, items=st.lists(json_values, max_size=4))
def test_any_json_in_a_list_body(body: Any, items: list[Any]) -> None:
    recording = tenant(("a", "A"), ("b", "B"))
    sub = arm.sub_id("a")
    for entry in recording.entries:
        if f"/{sub}/providers/Microsoft.Compute/virtualMachines" in entry["RequestUri"]:
            entry["ResponseBody"] = body
        if f"/{sub}/providers/Microsoft.Network/networkInterfaces" in entry["RequestUri"]:
            entry["ResponseBody"]["value"] += items
    status, stdout, stderr, out = _run(recording.document())
    _check(status, stdout, stderr, out, [arm.sub_id("a"), arm.sub_id("b")])


@SETTINGS
@given(items=st.lists(json_values, max_size=4))
def test_any_json_in_the_subscription_list(items: list[Any]) -> None:
    recording = tenant(("a", "A"))
    recording.entries[0]["ResponseBody"]["value"] += items
    status, stdout, stderr, out = _run(recording.document())
    _check(status, stdout, stderr, out, [arm.sub_id("a")])


@SETTINGS
@given(names=st.lists(texts, min_size=6, max_size=6))
def test_any_text_in_every_name(names: list[str]) -> None:
    recording = tenant(("a", names[0]))
    sub = arm.sub_id("a")
    for entry in recording.entries:
        body = entry["ResponseBody"]
        if not isinstance(body, dict):
            continue
        for number, item in enumerate(body.get("value") or []):
            if isinstance(item, dict) and "name" in item:
                item["name"] = names[1 + number % 5]
                item.get("tags", {}).update({"owner": names[2]})
        if "/virtualNetworks" in entry["RequestUri"] and body.get("value"):
            body["value"][0]["properties"]["subnets"][0]["name"] = names[3]
        if entry["StatusCode"] == 200 and f"/{sub}/providers/Microsoft.Network/natGateways" in entry["RequestUri"]:
            entry["StatusCode"] = 403
            entry["ResponseBody"] = {"error": {"code": names[4], "message": names[5]}}
    status, stdout, stderr, out = _run(recording.document())
    _check(status, stdout, stderr, out, [sub])


# Issue 23: child lists that page in loops, rule collection groups of any shape, configs of any depth.
CHILD_LISTS = ("/ruleCollectionGroups", "/hubVirtualNetworkConnections", "/routingIntent", "/hubRouteTables", "/slots")


def _contoso_run(document: dict[str, Any]) -> tuple[ExitStatus, str, str, Path]:
    """The CLI over a changed bundled tenant, in a thread that must end within test_hostile_two's bound."""
    from tests.test_hostile_two import scan

    return scan(Path(tempfile.mkdtemp(prefix="port25-property-")), document, *FORMATS, config=None)


def _contoso() -> dict[str, Any]:
    from tests.test_hostile_two import contoso

    return contoso()


@FEWER
@given(
    child=st.sampled_from(CHILD_LISTS),
    which=st.integers(0, 8),
    spelling=st.sampled_from(["same", "dot-segment", "double-slash"]),
    pages=st.integers(1, 3),
)
def test_child_lists_that_page_in_a_loop(child: str, which: int, spelling: str, pages: int) -> None:
    """A child list's pages chained into a cycle of 1 to 3 pages, the last leading back to the first however it
    spells it: the scan ends, and the list is an error."""
    from tests.test_hostile_two import entries_at, respelled

    document = _contoso()
    listed = [e for e in entries_at(document, child) if e["StatusCode"] == 200]
    first = listed[which % len(listed)]
    chain = [first]
    for number in range(2, pages + 1):
        page = json.loads(json.dumps(first))
        page["RequestUri"] = first["RequestUri"] + f"&$skiptoken={number}"
        page["ResponseBody"] = {"value": []}
        chain.append(page)
        document["Entries"].append(page)
    for page, following in itertools.pairwise(chain):
        page["ResponseBody"]["nextLink"] = following["RequestUri"]
    chain[-1]["ResponseBody"]["nextLink"] = respelled(first["RequestUri"], spelling)
    status, stdout, stderr, out = _contoso_run(document)
    _check(status, stdout, stderr, out, [])
    assert status is ExitStatus.INCOMPLETE and "led back to a page already read" in stderr


@FEWER
@given(group=json_values, collections=st.lists(json_values, max_size=3), priority=json_values)
def test_rule_collection_groups_of_any_shape(group: Any, collections: list[Any], priority: Any) -> None:
    """Whatever a rule collection group holds, no crash; and a firewall whose groups could not be understood is
    never read as denying (its findings are unknown or as its other rules decide)."""
    from tests.test_hostile_two import entries_at

    document = _contoso()
    (entry, *_) = entries_at(document, "/ruleCollectionGroups")
    items = entry["ResponseBody"]["value"]
    if isinstance(group, dict):
        group.setdefault("properties", {"priority": priority, "ruleCollections": collections})
    items.append(group)
    status, stdout, stderr, out = _contoso_run(document)
    _check(status, stdout, stderr, out, [])


deep_toml = st.integers(1, 3000).flatmap(
    lambda depth: st.sampled_from(
        [
            "x = " + "[" * depth + "]" * depth,
            "x = " + "{a = " * depth + "1" + "}" * depth,
            "a" + ".a" * depth + " = 1",
            "[" + ".".join(["t"] * depth) + "]\nk = 1",
        ]
    )
)


@SETTINGS
@given(text=deep_toml)
def test_configs_of_any_depth(text: str) -> None:
    """A config nested to any depth is read (and refused as not an audit config, exit 64) or refused for its
    depth (exit 64): never a crash."""
    folder = Path(tempfile.mkdtemp(prefix="port25-property-"))
    config = folder / "audit.toml"
    config.write_text(text, encoding="utf-8")
    recording = tenant(("a", "A"))
    status, _, stderr, _ = _run(recording.document(), "--config", str(config))
    assert status is ExitStatus.USAGE, stderr
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr
