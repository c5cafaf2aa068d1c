"""Issue 13: hostile and broken answers from Azure. Each case is a recording through the CLI, in-process: no exit 70,
no traceback, nothing printed to the terminal holds a control character, and nothing of the tenant is lost."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from auditor.status import ExitStatus
from fixtures import arm_payloads as arm
from tests.recordings import run_cli

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
EA = "EnterpriseAgreement_2014-09-01"


def tenant(*subscriptions: tuple[str, str]) -> arm.Recording:
    """EA subscriptions (key, display name), each with one VM whose NIC leaves through default outbound: open."""
    recording = arm.Recording()
    recording.record(
        "/subscriptions", "subscriptions", arm.page([arm.subscription(k, d, EA) for k, d in subscriptions])
    )
    for key, _ in subscriptions:
        sub = arm.sub_id(key)
        subnet = arm.subnet(sub, "rg", "vnet", "snet")
        recording.record_subscription(
            sub,
            vms=[arm.vm(sub, "rg", f"vm-{key}")],
            nics=[arm.nic(sub, "rg", f"vm-{key}-nic", subnet, "10.0.0.4", vm_name=f"vm-{key}")],
            vnets=[arm.vnet(sub, "rg", "vnet", "10.0.0.0/16", [{"name": "snet", "prefix": "10.0.0.0/24"}])],
        )
    recording.record_billing([])
    return recording


def scan(tmp_path: Path, recording: arm.Recording | dict[str, Any], *options: str) -> tuple[ExitStatus, str, str, Path]:
    path = tmp_path / "recording.json"
    document = recording.document() if isinstance(recording, arm.Recording) else recording
    path.write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "reports"
    status, stdout, stderr = run_cli("scan", "--replay", str(path), "--out", str(out), *options)
    return status, stdout, stderr, out


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def clean(stdout: str, stderr: str) -> None:
    assert "Traceback" not in stderr
    assert not CONTROL.search(stdout), repr(CONTROL.search(stdout))
    assert not CONTROL.search(stderr), repr(CONTROL.search(stderr))


@pytest.mark.parametrize(
    "name",
    ["[/bold] Contoso", "[dev] Contoso", "[link=http://evil.example]click here[/link]", "[bold red]alarm[/]"],
)
def test_rich_markup_in_azure_text_is_printed_as_text(tmp_path: Path, name: str) -> None:
    """Issue 13.1: a subscription name is text, never markup; the summary and the gate's exit code survive it."""
    recording = tenant(("a", name))
    status, stdout, stderr, _ = scan(tmp_path, recording, "--fail-on", "open")
    assert status is ExitStatus.FINDINGS, stderr
    assert name in stdout  # the summary names the subscription exactly as Azure does
    assert "--fail-on: 1 resource(s)" in stderr
    clean(stdout, stderr)


def test_a_path_with_markup_is_printed_as_text(tmp_path: Path) -> None:
    status, stdout, stderr = run_cli(
        "scan", "--replay", str(tenant(("a", "A")) and _write(tmp_path)), "--out", str(tmp_path / "[/] reports")
    )
    assert status is ExitStatus.SUCCESS, stderr
    assert f"Reports: {tmp_path / '[/] reports' / 'findings.csv'}" in stdout


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "plain.json"
    path.write_text(json.dumps(tenant(("a", "A")).document()), encoding="utf-8")
    return path


ESCAPES = [
    "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07",
    "\x1b[2J\x1b[Hcleared",
    "bell\x07",
    "\x9b31m",
    "a\u202eb",
]


@pytest.mark.parametrize("escape", ESCAPES, ids=["hyperlink", "clear-screen", "bell", "c1-csi", "bidi-override"])
def test_escape_sequences_from_azure_never_reach_the_terminal(tmp_path: Path, escape: str) -> None:
    """Issue 13.2: in the summary, in error messages (even with --quiet), in the new-exposure line."""
    recording = tenant(("a", f"Contoso {escape}"), ("b", "B"))
    recording.entries = [
        e
        for e in recording.entries
        if "/" + arm.sub_id("b") + "/providers/Microsoft.Network/natGateways" not in e["RequestUri"]
    ]
    recording.record(
        arm.provider_path(arm.sub_id("b"), "Microsoft.Network/natGateways"),
        "network",
        {"error": {"code": f"Denied{escape}", "message": f"no {escape} access"}},
        status=403,
    )
    shown = escape.encode("unicode_escape").decode("ascii")  # how the terminal shows it: escaped, not run
    status, stdout, stderr, _ = scan(tmp_path, recording)
    assert status is ExitStatus.INCOMPLETE
    clean(stdout, stderr)
    assert f"Denied{shown}" in stderr and f"no {shown} access" in stderr
    assert f"Contoso {shown}" in stdout  # the summary's subscription table
    quiet_status, quiet_out, quiet_err, _ = scan(tmp_path, recording, "--quiet")
    assert quiet_status is ExitStatus.INCOMPLETE and quiet_out == ""
    clean(quiet_out, quiet_err)  # --quiet says only that the audit is incomplete


def test_a_next_link_to_another_host_is_not_followed(tmp_path: Path) -> None:
    """Issue 13.3: the bearer token goes only to the cloud's own Resource Manager; the list is an error naming
    the host, and the audit is incomplete."""
    for link in (
        "https://evil.example/steal",
        "https://management.azure.com@evil.example/x",
        "http://management.azure.com/x",
    ):
        sub = arm.sub_id("a")
        recording = tenant(("a", "A"))
        recording.entries = [e for e in recording.entries if "virtualMachines" not in e["RequestUri"]]
        recording.record(
            arm.provider_path(sub, "Microsoft.Compute/virtualMachines"),
            "compute",
            arm.page([arm.vm(sub, "rg", "vm-1")], link),
        )
        status, stdout, stderr, out = scan(tmp_path, recording)
        assert status is ExitStatus.INCOMPLETE, stderr
        (subscription,) = rows(out / "subscriptions.csv")
        said = subscription["collection"]
        assert ("ForeignLink" in said and "another host (https://evil.example)" in said) or (
            link.startswith("http:") and "non-TLS" in said  # azure-core's authentication policy refuses it first
        ), said
        assert [r["resource_name"] for r in rows(out / "findings.csv")] == ["vm-1"]  # what was read is kept
        clean(stdout, stderr)


def _replace_list(recording: arm.Recording, fragment: str, body: Any, status: int = 200) -> arm.Recording:
    """The recording with the answer of the list whose URI holds `fragment` replaced."""
    for entry in recording.entries:
        if fragment in entry["RequestUri"]:
            entry["ResponseBody"], entry["StatusCode"] = body, status
    return recording


DEEP = 100_000  # far past Python's recursion limit: one such body once ended the run with exit 70


@pytest.mark.parametrize("name", ["vm-\ud800-broken", "name\udfff"], ids=["lone-high-surrogate", "lone-low-surrogate"])
def test_a_lone_surrogate_in_a_name_does_not_abort_the_audit(tmp_path: Path, name: str) -> None:
    """Issue 13.4: the item is kept, its name written with the surrogate as its escape; every report parses."""
    recording = tenant(("a", "A"), ("b", "B"))
    sub = arm.sub_id("a")
    bad = arm.vm(sub, "rg", "vm-bad")
    bad["name"] = name
    _replace_list(
        recording, f"/{sub}/providers/Microsoft.Compute/virtualMachines", arm.page([bad, arm.vm(sub, "rg", "vm-a")])
    )
    status, stdout, stderr, out = scan(tmp_path, recording, "--format", "csv,json,html,xlsx")
    assert status is ExitStatus.SUCCESS, stderr
    clean(stdout, stderr)
    escaped = name.encode("utf-8", "backslashreplace").decode("ascii")
    assert {r["resource_name"] for r in rows(out / "findings.csv")} == {escaped, "vm-a", "vm-b"}
    document = json.loads((out / "scan.json").read_text(encoding="utf-8"))
    assert name in {f["resource_name"] for f in document["findings"]}  # JSON reads the escape back as it was
    assert escaped in (out / "report.html").read_text(encoding="utf-8")
    sheet = openpyxl.load_workbook(out / "findings.xlsx")["findings"]
    assert escaped in {row[6] for row in sheet.iter_rows(values_only=True)}


def test_a_body_nested_too_deeply_is_an_error_for_its_list(tmp_path: Path) -> None:
    """Issue 13.4: a page nested past any decoder's depth is an error for its list, not for the run."""
    recording = tenant(("a", "A"), ("b", "B"))
    sub = arm.sub_id("a")
    deep = '{"value": [{"id": "x", "type": "t", "properties": ' + '{"a": [' * DEEP + "1" + "]}" * DEEP + "}]}"
    _replace_list(recording, f"/{sub}/providers/Microsoft.Compute/virtualMachines", deep)
    status, stdout, stderr, out = scan(tmp_path, recording, "--format", "csv,json,html,xlsx")
    assert status is ExitStatus.INCOMPLETE, stderr
    clean(stdout, stderr)
    assert [r["resource_name"] for r in rows(out / "findings.csv")] == ["vm-b"]
    collection = {r["subscription_id"]: r["collection"] for r in rows(out / "subscriptions.csv")}
    assert collection[arm.sub_id("b")] == "ok"
    assert collection[sub].startswith("virtualMachines:") and "RecursionError" in collection[sub]


@pytest.mark.parametrize(
    "item", [None, "a string", ["a", "list"], 42, {}], ids=["null", "string", "list", "number", "empty"]
)
def test_a_subscription_list_item_that_is_not_a_subscription(tmp_path: Path, item: Any) -> None:
    """Issue 13.4: an item of the subscription list that cannot be understood is an error, named; the others are
    audited."""
    recording = tenant(("a", "A"))
    listed = recording.entries[0]["ResponseBody"]["value"]
    listed.append(item)
    status, stdout, stderr, out = scan(tmp_path, recording)
    assert status is ExitStatus.INCOMPLETE, stderr
    clean(stdout, stderr)
    assert [r["resource_name"] for r in rows(out / "findings.csv")] == ["vm-a"]
    document = json.loads((out / "scan.json").read_text(encoding="utf-8"))
    (error,) = document["scan"]["errors"]
    assert (error["operation"], error["code"]) == ("subscriptions", "MalformedItem") and "item 2" in error["message"]
    assert "port25-audit: the subscription list: 1 item(s) could not be understood" in stderr
    record = tmp_path / "recorded.json"
    path = tmp_path / "recording.json"
    status, _, stderr = run_cli("record", "--replay", str(path), "--out", str(record))
    assert status is ExitStatus.INCOMPLETE and "Traceback" not in stderr and record.exists()


@pytest.mark.parametrize(
    "items",
    [["a", "b"], [None], [{"name": "no-id", "type": "Microsoft.Compute/virtualMachines"}], [{"id": 42}], [[1, 2]]],
    ids=["strings", "null", "no-id", "id-not-text", "list"],
)
def test_garbage_list_items_are_an_error_for_their_list(tmp_path: Path, items: list[Any]) -> None:
    """Issue 13.11: an item without an id or type is not a resource: its list is in error, and the audit is
    incomplete (never an empty finding and exit 0)."""
    recording = tenant(("a", "A"))
    sub = arm.sub_id("a")
    _replace_list(
        recording, f"/{sub}/providers/Microsoft.Compute/virtualMachines", arm.page([*items, arm.vm(sub, "rg", "vm-a")])
    )
    status, stdout, stderr, out = scan(tmp_path, recording)
    assert status is ExitStatus.INCOMPLETE, stderr
    clean(stdout, stderr)
    assert [r["resource_name"] for r in rows(out / "findings.csv")] == ["vm-a"]
    (subscription,) = rows(out / "subscriptions.csv")
    assert subscription["collection"].startswith("virtualMachines:") and "MalformedItem" in subscription["collection"]


def test_a_subscription_listed_twice_is_audited_once_and_said(tmp_path: Path) -> None:
    """Issue 13.12: before, every list of it read as 'nextLink led back to a page already read' and 0 findings."""
    recording = tenant(("a", "A"))
    listed = recording.entries[0]["ResponseBody"]["value"]
    listed.append(dict(listed[0]))
    status, stdout, stderr, out = scan(tmp_path, recording)
    assert status is ExitStatus.SUCCESS, stderr
    assert [r["resource_name"] for r in rows(out / "findings.csv")] == ["vm-a"]
    assert len(rows(out / "subscriptions.csv")) == 1
    assert "listed 2 times" in stderr
    clean(stdout, stderr)


@pytest.mark.parametrize("name", ["vm\x1b[31mred", "nul\x00byte", "#N/A", "#REF!", "=cmd|'/c calc'!A0"])
def test_xlsx_keeps_every_name_as_text(tmp_path: Path, name: str) -> None:
    """Issue 13.5: a control character no longer breaks the workbook (it is shown escaped), and `#N/A` is text,
    not an Excel error value."""
    recording = tenant(("a", name))
    sub = arm.sub_id("a")
    machine = arm.vm(sub, "rg", "vm-a")
    machine["name"] = name
    _replace_list(recording, f"/{sub}/providers/Microsoft.Compute/virtualMachines", arm.page([machine]))
    status, stdout, stderr, out = scan(tmp_path, recording, "--format", "xlsx")
    assert status in (ExitStatus.SUCCESS, ExitStatus.INCOMPLETE), stderr
    clean(stdout, stderr)
    book = openpyxl.load_workbook(out / "findings.xlsx")
    (header, row) = list(book["findings"].iter_rows())
    cells = dict(zip([c.value for c in header], row, strict=True))
    shown = name.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 for c in name) else name
    assert (cells["resource_name"].value, cells["resource_name"].data_type) == (shown, "s")
    assert (cells["subscription_name"].value, cells["subscription_name"].data_type) == (shown, "s")
