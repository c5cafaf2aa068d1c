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
from tests.recordings import EVERY_FORMAT, run_cli

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
    status, stdout, stderr, out = scan(tmp_path, recording, "--format", EVERY_FORMAT)
    assert status is ExitStatus.SUCCESS, stderr
    clean(stdout, stderr)
    escaped = name.encode("utf-8", "backslashreplace").decode("ascii")
    assert {r["resource_name"] for r in rows(out / "findings.csv")} == {escaped, "vm-a", "vm-b"}
    document = json.loads((out / "scan.json").read_text(encoding="utf-8"))
    assert name in {f["resource_name"] for f in document["findings"]}  # JSON reads the escape back as it was
    assert escaped in (out / "report.html").read_text(encoding="utf-8")
    sheet = openpyxl.load_workbook(out / "findings.xlsx")["findings"]
    assert escaped in {row[0] for row in sheet.iter_rows(values_only=True)}  # the resource's name comes first


def test_a_body_nested_too_deeply_is_an_error_for_its_list(tmp_path: Path) -> None:
    """Issue 13.4: a page nested past any decoder's depth is an error for its list, not for the run."""
    recording = tenant(("a", "A"), ("b", "B"))
    sub = arm.sub_id("a")
    deep = '{"value": [{"id": "x", "type": "t", "properties": ' + '{"a": [' * DEEP + "1" + "]}" * DEEP + "}]}"
    _replace_list(recording, f"/{sub}/providers/Microsoft.Compute/virtualMachines", deep)
    status, stdout, stderr, out = scan(tmp_path, recording, "--format", EVERY_FORMAT)
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


def _scanned_machines_named(tmp_path: Path, names: list[str], formats: str, subscription: str = "A") -> Path:
    """The reports (`formats`) of one subscription whose VMs have these names; the scan goes through cleanly."""
    recording = tenant(("a", subscription))
    sub = arm.sub_id("a")
    machines = [arm.vm(sub, "rg", f"m{i:02d}") for i in range(len(names))]
    for machine, name in zip(machines, names, strict=True):
        machine["name"] = name
    _replace_list(recording, f"/{sub}/providers/Microsoft.Compute/virtualMachines", arm.page(machines))
    status, stdout, stderr, out = scan(tmp_path, recording, "--format", formats)
    assert status in (ExitStatus.SUCCESS, ExitStatus.INCOMPLETE), stderr
    clean(stdout, stderr)
    return out


@pytest.mark.parametrize("name", ["vm\x1b[31mred", "nul\x00byte", "#N/A", "#REF!", "=cmd|'/c calc'!A0"])
def test_xlsx_keeps_every_name_as_text(tmp_path: Path, name: str) -> None:
    """Issue 13.5: a control character no longer breaks the workbook (it is shown escaped), and `#N/A` is text,
    not an Excel error value."""
    out = _scanned_machines_named(tmp_path, [name], "xlsx", subscription=name)
    book = openpyxl.load_workbook(out / "findings.xlsx")
    (header, row) = list(book["findings"].iter_rows())
    cells = dict(zip([c.value for c in header], row, strict=True))
    shown = name.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 for c in name) else name
    assert (cells["resource"].value, cells["resource"].data_type) == (shown, "s")
    assert (cells["subscription"].value, cells["subscription"].data_type) == (shown, "s")
    assert cells["subscription"].quotePrefix  # Excel keeps it text even when the cell is edited


def test_xlsx_cuts_text_longer_than_a_cell_holds_and_says_so(tmp_path: Path) -> None:
    """Excel holds 32,767 characters a cell, and the workbook's writer refuses the whole workbook for a longer text
    (a resource's 50 tags can be longer; here a crafted name): the cell holds what fits and says it was cut; the
    CSV holds it whole."""
    from auditor.report.xlsx import CUT

    name = "n" * 40_000
    out = _scanned_machines_named(tmp_path, [name], "xlsx,csv")
    (header, row) = list(openpyxl.load_workbook(out / "findings.xlsx")["findings"].iter_rows())
    cells = dict(zip([c.value for c in header], row, strict=True))
    for column in ("resource", "resource_name"):
        assert len(cells[column].value) == 32_767 and cells[column].value.endswith(CUT), column
        assert cells[column].value.startswith("n" * 32_000), column
    with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
        assert [r["resource_name"] for r in csv.DictReader(stream)] == [name]


# Names the workbook's writer would take for links of their own, were they written in the link column as text
LINKLIKE = ["https://evil.example/x", "  mailto:a@evil.example", "\u200binternal:summary!A1", "ftp://evil.example"]


@pytest.mark.parametrize("linklike", [LINKLIKE[:2], LINKLIKE], ids=["fewer-than-the-links", "more-than-the-links"])
def test_xlsx_names_never_link_where_they_say_and_a_sheet_keeps_excel_s_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, linklike: list[str]
) -> None:
    """Issue 28.2: the writer makes a link of any text in the link column that reads as one (even after spaces), so
    a name past the sheet's portal links must not be written there as it is. Each such name links to its own portal
    page instead (showing its name), and the sheet never holds more links than Excel reads (past 65,535 the
    workbook is unreadable): with more such names than that, the sheet links none, and the summary says so. Here 3
    links stand for Excel's 65,530."""
    import auditor.report.xlsx

    monkeypatch.setattr(auditor.report.xlsx, "MAX_LINKS", 3)
    names = [f"vm-{i:02d}" for i in range(5)] + ["", *linklike]  # a resource without a name: no link, no "None"
    out = _scanned_machines_named(tmp_path, names, "xlsx,csv")
    book = openpyxl.load_workbook(out / "findings.xlsx")
    shown = {row[0].value or "": row[0].hyperlink for row in book["findings"].iter_rows(min_row=2)}
    assert sorted(shown) == sorted(names)  # every name is shown as itself
    assert shown[""] is None
    linked = {name for name, link in shown.items() if link is not None}
    summary = {row[0]: row[1] for row in book["summary"].iter_rows(values_only=True)}
    if len(linklike) > 3:
        assert linked == set()
        assert summary["portal links"].startswith("none: more names than Excel's 3 links a sheet read as links")
        return
    # the first 3 rows (most severe, then by name: the nameless one first) get the 3 links Excel's limit leaves,
    # the names that read as links counted in; the nameless one shows no link
    assert linked == set(linklike) and len(linked) <= 3
    with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
        ids = {row["resource_name"]: (row["tenant_id"], row["resource_id"]) for row in csv.DictReader(stream)}
    for name in linked:  # to the portal, not where the name says
        tenant_id, resource_id = ids[name]
        assert (shown[name].target, shown[name].location) == (
            "https://portal.azure.com/",
            f"@{tenant_id}/resource{resource_id}",
        ), name


def test_a_retry_after_of_decades_is_not_waited(tmp_path: Path) -> None:
    """Issue 13.10: Retry-After 999999999 would be three sleeps of about 31 years; the wait is capped and the list
    is an error saying so."""
    recording = tenant(("a", "A"))
    sub = arm.sub_id("a")
    _replace_list(
        recording,
        f"/{sub}/providers/Microsoft.Compute/virtualMachines",
        {"error": {"code": "TooManyRequests", "message": "throttled"}},
        status=429,
    )
    for entry in recording.entries:
        if "virtualMachines" in entry["RequestUri"]:
            entry["ResponseHeaders"]["Retry-After"] = "999999999"
    status, stdout, stderr, out = scan(tmp_path, recording)
    assert status is ExitStatus.INCOMPLETE, stderr
    (subscription,) = rows(out / "subscriptions.csv")
    assert subscription["collection"].startswith("virtualMachines:") and "WaitTooLong" in subscription["collection"]
    assert (
        "Azure asked to wait 999999999 s" in subscription["collection"]
        and "at most 120 s" in subscription["collection"]
    )
    clean(stdout, stderr)


def test_an_nsg_access_value_azure_does_not_document_is_unknown(tmp_path: Path) -> None:
    """Issue 13.15: "Block" is neither Allow nor Deny: the README promises `unknown`, not a guess."""
    recording = tenant(("a", "A"))
    sub = arm.sub_id("a")
    nsg_id = arm.nsg_id(sub, "rg", "nsg")
    rule = arm.security_rule(nsg_id, "odd", 100, "Outbound", "Deny")
    rule["properties"]["access"] = "Block"
    _replace_list(
        recording,
        f"/{sub}/providers/Microsoft.Network/networkSecurityGroups",
        arm.page([arm.nsg(sub, "rg", "nsg", [rule])]),
    )
    _replace_list(
        recording,
        f"/{sub}/providers/Microsoft.Network/virtualNetworks",
        arm.page(
            [arm.vnet(sub, "rg", "vnet", "10.0.0.0/16", [{"name": "snet", "prefix": "10.0.0.0/24", "nsg": nsg_id}])]
        ),
    )
    status, stdout, stderr, out = scan(tmp_path, recording)
    assert status is ExitStatus.SUCCESS, stderr
    clean(stdout, stderr)
    (finding,) = rows(out / "findings.csv")
    assert finding["verdict"] == "unknown"
    assert "has an access value Azure does not document" in finding["reason"]


@pytest.mark.parametrize("option", ["--replay", "--config", "--baseline"])
def test_a_fifo_or_a_device_is_refused_not_waited_on(tmp_path: Path, option: str) -> None:
    """Issue 13.8: a FIFO hung forever and /dev/zero grew to gigabytes: only regular files are read (exit 66)."""
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    plain = _write(tmp_path)
    for source in (fifo, Path("/dev/zero")):
        argv = ["scan", "--replay", str(plain), "--out", str(tmp_path / "r")]
        argv[argv.index("--replay") + 1 if option == "--replay" else len(argv) :] = (
            [str(source), "--out", str(tmp_path / "r")] if option == "--replay" else [option, str(source)]
        )
        status, _, stderr = run_cli(*argv)
        assert status is ExitStatus.NO_INPUT, (source, stderr)
        assert "not a regular file" in stderr and stderr.count("\n") == 1


def test_a_file_larger_than_its_kind_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "huge.toml"
    config.write_text("# padding\n" * 200_000, encoding="utf-8")  # 2 MB of comments
    status, _, stderr = run_cli("scan", "--replay", str(_write(tmp_path)), "--config", str(config))
    assert status is ExitStatus.NO_INPUT and "larger than the 1 MiB" in stderr


@pytest.mark.parametrize(
    ("content", "status", "said"),
    [
        ('{"schema_version": 2, "tool": "port25-audit", "findings": []}', ExitStatus.DATA_ERROR, "not a port25-audit"),
        ('{"schema_version": 2, "tool": null, "findings": []}', ExitStatus.DATA_ERROR, "not a port25-audit"),
        ("[" * 100_000 + "]" * 100_000, ExitStatus.DATA_ERROR, "nested too deeply"),
        (
            '{"schema_version": 2, "tool": {"name": "port25-audit"}, "scan": {"started": "x"}, "findings": [1]}',
            ExitStatus.DATA_ERROR,
            "does not follow schema_version 2",
        ),
    ],
    ids=["tool-a-string", "tool-null", "deep", "finding-not-an-object"],
)
def test_bad_baselines_exit_65_not_70(tmp_path: Path, content: str, status: ExitStatus, said: str) -> None:
    """Issue 13.13: a baseline that cannot be used is a data error with one line, never an internal error."""
    baseline = tmp_path / "old.json"
    baseline.write_text(content, encoding="utf-8")
    got, _, stderr = run_cli(
        "scan", "--replay", str(_write(tmp_path)), "--out", str(tmp_path / "r"), "--baseline", str(baseline)
    )
    assert got is status and said in stderr and stderr.count("\n") == 1, stderr


@pytest.mark.parametrize(
    "entries",
    [
        '[{"RequestUri": "https://management.azure.com/subscriptions", "RequestMethod": "GET", '
        '"StatusCode": Infinity}]',
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["status-infinity", "deep"],
)
def test_bad_recordings_exit_65_not_70(tmp_path: Path, entries: str) -> None:
    """Read, but not a recording port25-audit can use: 65 (issue 24.4 decided 65 over 66)."""
    recording = tmp_path / "bad.json"
    recording.write_text('{"Entries": ' + entries + "}", encoding="utf-8")
    status, _, stderr = run_cli("scan", "--replay", str(recording), "--out", str(tmp_path / "r"))
    assert status is ExitStatus.DATA_ERROR and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr


def test_a_next_link_that_is_a_number_is_an_error_for_its_list(tmp_path: Path) -> None:
    recording = tenant(("a", "A"))
    sub = arm.sub_id("a")
    page = arm.page([arm.vm(sub, "rg", "vm-1")])
    page["nextLink"] = 12345
    _replace_list(recording, f"/{sub}/providers/Microsoft.Compute/virtualMachines", page)
    status, stdout, stderr, out = scan(tmp_path, recording)
    assert status is ExitStatus.INCOMPLETE, stderr
    clean(stdout, stderr)
    (subscription,) = rows(out / "subscriptions.csv")
    assert subscription["collection"].startswith("virtualMachines:")


def test_config_ids_with_a_trailing_newline_or_not_in_the_tenant_are_said(tmp_path: Path) -> None:
    """Issue 13.14: a key with a trailing newline passed the id check and was silently ignored; an entry for a
    subscription not in the tenant (a typo in an exemption's id) went unnoticed."""
    config = tmp_path / "audit.toml"
    config.write_text(f'[subscriptions."{arm.sub_id("a")}\\n"]\noffer = "enterprise_devtest"\n', encoding="utf-8")
    status, _, stderr = run_cli("scan", "--replay", str(_write(tmp_path)), "--config", str(config))
    assert status is ExitStatus.USAGE and "not a subscription id" in stderr
    typo = "00000000-0000-0000-0000-00000000beef"
    config.write_text(f'[subscriptions."{typo}"]\nexemption_granted = 2025-02-01\n', encoding="utf-8")
    status, _, stderr = run_cli(
        "scan", "--replay", str(_write(tmp_path)), "--config", str(config), "--out", str(tmp_path / "r")
    )
    assert status is ExitStatus.SUCCESS
    assert f'[subscriptions."{typo}"] names a subscription that is not in the tenant' in stderr


SECRETS = {
    "sig": "SIGSECRET",
    "code": "CODESECRET",
    "token": "TOKENSECRET",
    "client_secret": "CLIENTSECRET",
    "password": "PASSWORDSECRET",
    "api-key": "APIKEYSECRET",
    "subscription-key": "SUBKEYSECRET",
}


@pytest.mark.parametrize("scrubbed", [False, True], ids=["record", "record-scrub"])
def test_recordings_keep_only_allowed_query_values_and_headers(tmp_path: Path, scrubbed: bool) -> None:
    """Issue 13.6: query values and response headers off the allow-list never reach a recording, and the replay
    of the recording still follows its (redacted) nextLinks."""
    recording = tenant(("a", "A"))
    sub = arm.sub_id("a")
    query = "&".join(f"{name}={value}" for name, value in SECRETS.items())
    link = f"{arm.ARM}{arm.provider_path(sub, 'Microsoft.Compute/virtualMachines')}?api-version=2026-04-01&{query}"
    _replace_list(
        recording, f"/{sub}/providers/Microsoft.Compute/virtualMachines", arm.page([arm.vm(sub, "rg", "vm-a")], link)
    )
    recording.record(
        arm.provider_path(sub, "Microsoft.Compute/virtualMachines"),
        "compute",
        arm.page([arm.vm(sub, "rg", "vm-2")]),
        query=query,
    )
    for entry in recording.entries:
        entry["ResponseHeaders"].update(
            {
                "Location": "https://x.example/?sig=LOCATIONSECRET",
                "X-Api-Key": "HEADERSECRET",
                "Ocp-Apim-Subscription-Key": "OCPSECRET",
            }
        )
    source = tmp_path / "source.json"
    source.write_text(json.dumps(recording.document()), encoding="utf-8")
    recorded = tmp_path / "recorded.json"
    status, _, stderr = run_cli(
        "record", "--replay", str(source), "--out", str(recorded), *(["--scrub"] if scrubbed else [])
    )
    assert status is ExitStatus.SUCCESS, stderr
    text = recorded.read_text(encoding="utf-8")
    for secret in [*SECRETS.values(), "LOCATIONSECRET", "HEADERSECRET", "OCPSECRET"]:
        assert secret not in text, secret
    assert "sig=REDACTED" in text and "api-version=2026-04-01" in text  # allowed values stay
    replayed, stdout, stderr = run_cli("scan", "--replay", str(recorded), "--out", str(tmp_path / "r"))
    assert replayed is ExitStatus.SUCCESS, stderr
    clean(stdout, stderr)
    assert len(rows(tmp_path / "r" / "findings.csv")) == 2  # both pages, through the redacted nextLink


@pytest.mark.parametrize("group", ["FabrikamFinance(Payroll)", "rg-zürich-müller", "Grupo_Niño.Pruebas"])
def test_scrub_replaces_resource_group_names_azure_allows(tmp_path: Path, group: str) -> None:
    """Issue 13.7: resource group names may hold parentheses, periods and non-ASCII letters."""
    recording = tenant(("a", "A"))
    sub = arm.sub_id("a")
    _replace_list(
        recording, f"/{sub}/providers/Microsoft.Compute/virtualMachines", arm.page([arm.vm(sub, group, "vm-a")])
    )
    source = tmp_path / "source.json"
    source.write_text(json.dumps(recording.document(), ensure_ascii=False), encoding="utf-8")
    scrubbed = tmp_path / "scrubbed.json"
    status, _, stderr = run_cli("record", "--replay", str(source), "--scrub", "--out", str(scrubbed))
    assert status is ExitStatus.SUCCESS, stderr
    text = json.loads(scrubbed.read_text(encoding="utf-8"))
    flat = json.dumps(text, ensure_ascii=False)
    assert group not in flat and group.lower() not in flat.lower()
    for part in group.replace("(", " ").replace(")", " ").replace("_", " ").replace(".", " ").split():
        assert part not in flat, part


def test_one_scan_one_set_of_reports(tmp_path: Path) -> None:
    """Issue 13.9: the files in --out are of one scan: an earlier scan's report.html and findings.xlsx go when a
    --format csv scan replaces the set, and what a killed scan left (a staging folder, a temporary file) is
    removed."""
    plain = _write(tmp_path)
    out = tmp_path / "reports"
    status, _, stderr = run_cli("scan", "--replay", str(plain), "--out", str(out), "--format", EVERY_FORMAT)
    assert status is ExitStatus.SUCCESS, stderr
    (out / ".port25-audit-staging-killed").mkdir()
    (out / ".port25-audit-staging-killed" / "findings.csv").write_text("half", encoding="utf-8")
    (out / ".findings.csv.abc123.tmp").write_text("half", encoding="utf-8")
    (out / "notes.txt").write_text("the team's own file", encoding="utf-8")
    status, _, stderr = run_cli("scan", "--replay", str(plain), "--out", str(out), "--format", "csv")
    assert status is ExitStatus.SUCCESS, stderr
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "notes.txt", "subscriptions.csv"]


def test_a_second_scan_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    from auditor.report.write import reports_lock

    out = tmp_path / "reports"
    with reports_lock(out):
        status, _, stderr = run_cli("scan", "--replay", str(_write(tmp_path)), "--out", str(out))
    assert status is ExitStatus.CANT_CREATE
    assert "another port25-audit scan is writing its reports to" in stderr and stderr.count("\n") == 1
    assert not any(out.iterdir())


def test_a_failed_write_leaves_the_previous_set_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk while writing: before, half the files were replaced before exit 73."""
    import auditor.report.write as write

    plain = _write(tmp_path)
    out = tmp_path / "reports"
    assert run_cli("scan", "--replay", str(plain), "--out", str(out))[0] is ExitStatus.SUCCESS
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    written = 0
    real = write._write_file

    def disk_full_on_the_third(target: Path, content: Any, mode: int) -> None:
        nonlocal written
        written += 1
        if written == 3:
            raise OSError(28, "No space left on device")
        real(target, content, mode)

    monkeypatch.setattr(write, "_write_file", disk_full_on_the_third)
    status, _, stderr = run_cli("scan", "--replay", str(plain), "--out", str(out), "--config", str(_config(tmp_path)))
    assert status is ExitStatus.CANT_CREATE and "No space left on device" in stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


class _FillsUp:
    """A file on a disk that is full after its first chunk."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.chunks = 0

    def __enter__(self) -> _FillsUp:
        return self

    def __exit__(self, *_: object) -> None:
        self._stream.close()

    def write(self, chunk: bytes) -> int:
        self.chunks += 1
        if self.chunks > 1:
            raise OSError(28, "No space left on device")
        return int(self._stream.write(chunk))

    def flush(self) -> None:
        self._stream.flush()

    def fileno(self) -> int:
        return int(self._stream.fileno())


def _writer_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name == "port25-audit report writer"]


def test_a_disk_that_fills_while_the_writer_thread_writes_keeps_the_previous_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 28.1: a file's chunks are written by a thread beside the one making them. A full disk there reaches
    the scan as one in the same thread did: exit 73 with the system's words, the previous set whole, nothing
    written after the failure, and no writer thread left behind."""
    import builtins

    import auditor.report.write as write

    plain = _write(tmp_path)
    out = tmp_path / "reports"
    assert run_cli("scan", "--replay", str(plain), "--out", str(out), "--format", "csv,json")[0] is ExitStatus.SUCCESS
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    full: list[_FillsUp] = []

    def opened(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        stream = builtins.open(path, mode, *args, **kwargs)  # noqa: SIM115 (closed by the caller's with)
        if Path(path).name == "findings.csv":
            full.append(_FillsUp(stream))
            return full[-1]
        return stream

    monkeypatch.setattr(write, "open", opened, raising=False)
    status, _, stderr = run_cli(
        "scan", "--replay", str(plain), "--out", str(out), "--format", "csv,json", "--config", str(_config(tmp_path))
    )
    assert status is ExitStatus.CANT_CREATE and "No space left on device" in stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert len(full) == 1 and full[0].chunks == 2  # no write tried after the one that failed
    assert _writer_threads() == []


def test_a_report_that_fails_while_made_is_the_error_raised_and_its_writer_ends(tmp_path: Path) -> None:
    """Issue 28.1: what stops a file's chunks being made (a format's error, Ctrl-C) is the error raised, after the
    writer thread has written what it was given and ended."""
    from auditor.report.write import _write_file

    def chunks() -> Any:
        yield b"made, "
        yield b"then "
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _write_file(tmp_path / "report", chunks(), 0o644)
    assert (tmp_path / "report").read_bytes() == b"made, then "
    assert _writer_threads() == []


def _config(tmp_path: Path) -> Path:
    """A config that changes the findings (so a second scan's files differ from the first's)."""
    config = tmp_path / "audit.toml"
    config.write_text(f'[subscriptions."{arm.sub_id("a")}"]\noffer = "pay_as_you_go"\n', encoding="utf-8")
    return config


def test_reports_follow_the_umask(tmp_path: Path) -> None:
    """Issue 14.9 (with 13.9): report files get the modes any command-line tool's output gets."""
    import os

    old = os.umask(0o022)
    try:
        assert run_cli("scan", "--replay", str(_write(tmp_path)), "--out", str(tmp_path / "r"))[0] is ExitStatus.SUCCESS
    finally:
        os.umask(old)
    assert {oct(p.stat().st_mode & 0o777) for p in (tmp_path / "r").iterdir()} == {"0o644"}


def test_the_xlsx_findings_come_most_severe_first_with_plain_labels(tmp_path: Path) -> None:
    """Issue 14.5: the workbook is for people: labels, and the order of severity (the CSV keeps machine values)."""
    from tests.conftest import CONTOSO, CONTOSO_CONFIG

    out = tmp_path / "r"
    run_cli(
        "scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out), "--format", "csv,xlsx"
    )
    sheet = openpyxl.load_workbook(out / "findings.xlsx")["findings"]
    header, *body = list(sheet.iter_rows(values_only=True))
    labels = [row[header.index("verdict")] for row in body]
    # issue 27.1: five verdicts; a blocked row whose block can be lifted is still blocked, and comes first of them
    order = ["Open", "Unknown", "Blocked by Azure", "Denied by network", "Not supported"]
    assert [order.index(label) for label in labels] == sorted(order.index(label) for label in labels)
    assert set(labels) <= set(order)
    policies = [
        row[header.index("Azure's policy")] for row in body if row[header.index("verdict")] == "Blocked by Azure"
    ]
    liftable = [policy == "Blocked, exemption available" for policy in policies]
    assert any(liftable) and liftable == sorted(liftable, reverse=True)
    assert header[:4] == ("resource", "subscription", "verdict", "what to do")
    assert {row["verdict"] for row in rows(out / "findings.csv")} <= {
        "open",
        "blocked",
        "denied_by_network",
        "not_supported",
        "unknown",
    }
