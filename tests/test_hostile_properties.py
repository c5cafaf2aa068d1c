"""Issue 13, "done when": arbitrary JSON in a recording's list bodies and subscription list, and arbitrary text in
every name field, through the whole pipeline and every format. The exit code is never 70, every report parses,
nothing printed to the terminal holds a control character, and every subscription of the list is in
subscriptions.csv."""

from __future__ import annotations

import csv
import io
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
from tests.recordings import run_cli
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
FORMATS = ("--format", "csv,json,html,xlsx")
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(document: dict[str, Any]) -> tuple[ExitStatus, str, str, Path]:
    folder = Path(tempfile.mkdtemp(prefix="port25-property-"))
    recording = folder / "recording.json"
    recording.write_text(json.dumps(document), encoding="utf-8")
    status, stdout, stderr = run_cli("scan", "--replay", str(recording), "--out", str(folder / "out"), *FORMATS)
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
