"""Issue 13: hostile and broken answers from Azure. Each case is a recording through the CLI, in-process: no exit 70,
no traceback, nothing printed to the terminal holds a control character, and nothing of the tenant is lost."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

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
