"""Issue 26: the exceptions register. An accepted verdict stays the verdict; the gates pass it over until its entry
expires; expired and stale entries are said; bad entries are config errors naming their line. Run through the CLI
on the bundled tenant."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from auditor.status import ExitStatus
from fixtures.arm_payloads import sub_id
from tests.conftest import CONTOSO, CONTOSO_CONFIG
from tests.recordings import run_cli

PROD, EDGE = sub_id("prod"), sub_id("edge")
WEB = f"/subscriptions/{PROD}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/vm-web-01"
FAR = "2099-12-31"  # accepted on any day these tests run


def _entry(selector: str, verdict: str = '"open"', expires: str = FAR, **extra: str) -> str:
    lines = [
        "[[exceptions]]",
        selector,
        f"verdict = {verdict}",
        'reason = "Sanctioned relay"',
        'owner = "mail-team@contoso.com"',
        'ticket = "CHG-1"',
        f"expires = {expires}",
        *(f"{key} = {value}" for key, value in extra.items()),
    ]
    return "\n".join(lines) + "\n"


def _config(tmp_path: Path, *entries: str) -> Path:
    """The bundled config's subscriptions, with these entries as its register instead of the bundled one."""
    text = CONTOSO_CONFIG.read_text(encoding="utf-8").split("[[exceptions]]", 1)[0]
    path = tmp_path / "audit.toml"
    path.write_text(text + "\n" + "\n".join(entries), encoding="utf-8")
    return path


def _scan(tmp_path: Path, config: Path, *options: str) -> tuple[ExitStatus, str, dict[str, dict[str, str]]]:
    out = tmp_path / "out"
    status, _, stderr = run_cli(
        "scan", "--replay", str(CONTOSO), "--config", str(config), "--out", str(out), "--quiet", *options
    )
    rows: dict[str, dict[str, str]] = {}
    if (out / "findings.csv").exists():
        with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
            rows = {r["resource_name"]: r for r in csv.DictReader(stream)}
    return status, stderr, rows


def _all_open_but(name: str, rows: dict[str, dict[str, str]]) -> list[str]:
    return [r["resource_id"] for n, r in rows.items() if r["verdict"] == "open" and n != name]


def test_an_accepted_open_resource_does_not_fail_the_gate_and_an_expired_one_does(tmp_path: Path) -> None:
    """`--fail-on open` passes over what the register accepts, until the entry expires; the verdict stays."""
    _, _, before = _scan(tmp_path, _config(tmp_path))
    others = "".join(_entry(f"match = {json.dumps(rid)}") for rid in _all_open_but("vm-web-01", before))

    accepted, accepted_err, rows = _scan(
        tmp_path, _config(tmp_path, others, _entry(f"match = {json.dumps(WEB)}")), "--fail-on", "open"
    )
    expired, expired_err, expired_rows = _scan(
        tmp_path,
        _config(tmp_path, others, _entry(f"match = {json.dumps(WEB)}", expires="2026-01-31")),
        "--fail-on",
        "open",
    )

    assert accepted is ExitStatus.INCOMPLETE, accepted_err  # the gate passes; the bundled 403s remain
    assert (rows["vm-web-01"]["verdict"], rows["vm-web-01"]["exception"]) == ("open", "accepted")
    assert (rows["vm-web-01"]["exception_owner"], rows["vm-web-01"]["exception_expires"]) == (
        "mail-team@contoso.com",
        FAR,
    )
    assert "--fail-on" not in accepted_err
    assert expired is ExitStatus.FINDINGS
    assert (expired_rows["vm-web-01"]["verdict"], expired_rows["vm-web-01"]["exception"]) == ("open", "expired")
    assert "expired on 2026-01-31: 1 resource(s) it accepted count again (vm-web-01)" in expired_err
    assert "--fail-on: 1 resource(s) with verdict open" in expired_err


@pytest.mark.parametrize(
    ("selector", "matched"),
    [
        (f"match = {json.dumps(WEB.upper().replace('VM-WEB-01', 'vm-web-*'))}", {"vm-web-01"}),  # case-insensitive glob
        ('resource_group = "rg-edge"\nsubscription = "' + EDGE + '"', "edge-open"),
        (f'subscription = "{EDGE}"', "edge-open"),
        ('tag = "role=smtp-relay"', {"vm-partner-relay"}),
    ],
    ids=["id-glob", "group-and-subscription", "subscription", "tag"],
)
def test_entries_match_by_id_glob_group_subscription_and_tag(
    tmp_path: Path, selector: str, matched: set[str] | str
) -> None:
    _, stderr, rows = _scan(tmp_path, _config(tmp_path, _entry(selector)))

    accepted = {name for name, row in rows.items() if row["exception"] == "accepted"}
    if matched == "edge-open":
        matched = {n for n, r in rows.items() if r["subscription_id"] == EDGE and r["verdict"] == "open"}
    assert accepted == matched and accepted, stderr
    assert all(rows[name]["verdict"] == "open" for name in accepted)  # an exception never changes a verdict


def test_stale_entries_are_said_never_kept_silently(tmp_path: Path) -> None:
    """An entry that matches no audited resource, or whose resources no longer have the verdict it accepts."""
    nothing = _entry(f'match = "/subscriptions/{PROD}/resourceGroups/rg-gone/*"')
    gone = _entry('match = "*/virtualMachines/vm-mail-01"')  # vm-mail-01 is denied_by_network
    _, stderr, rows = _scan(tmp_path, _config(tmp_path, nothing, gone))

    lines = [line for line in stderr.splitlines() if "is stale" in line]
    assert len(lines) == 2, stderr
    assert "it matches no audited resource" in lines[0] and "rg-gone" in lines[0]
    assert "its resources are now denied_by_network, not open" in lines[1]
    assert rows["vm-mail-01"]["exception"] == ""


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        (_entry('match = "/subscriptions/*"').replace(f"expires = {FAR}\n", ""), "needs expires"),
        (_entry('match = "/subscriptions/*"', verdict='"opened"'), "is not a verdict (known: open, blocked"),
        (_entry('match = "/resourceGroups/rg-web/*"'), "cannot match a resource id"),
        (_entry('owner_of = "x"'), "unknown key 'owner_of'"),
        (_entry('tag = "role"'), "is not name=value"),
        (_entry('subscription = "prod"'), "is not a subscription id"),
        (_entry('match = "/subscriptions/*"', expires='"next year"'), "is not a date"),
        (_entry('match = "/subscriptions/*"').replace('reason = "Sanctioned relay"\n', ""), "needs reason"),
    ],
    ids=["no-expires", "unknown-verdict", "glob-cannot-match", "unknown-key", "tag", "subscription", "date", "reason"],
)
def test_bad_entries_are_config_errors_naming_their_line(tmp_path: Path, entry: str, said: str) -> None:
    config = _config(tmp_path, _entry('match = "/subscriptions/*"'), entry)
    lines = config.read_text(encoding="utf-8").splitlines()
    line = [n for n, text in enumerate(lines, start=1) if text == "[[exceptions]]"][1]  # the second entry

    status, stderr, _ = _scan(tmp_path, config)

    assert status == 64, stderr
    assert f"[[exceptions]] at line {line}" in stderr and said in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


def test_an_entry_accepted_then_expired_since_the_baseline_is_drift_and_trips_the_gate(tmp_path: Path) -> None:
    """Drift says when an exception expired; a resource accepted in the baseline and not now is new exposure."""
    accept = _entry(f"match = {json.dumps(WEB)}")
    base_dir = tmp_path / "base"
    base_dir.mkdir()
    run_cli(
        "scan",
        "--replay",
        str(CONTOSO),
        "--config",
        str(_config(base_dir, accept)),
        "--out",
        str(base_dir / "out"),
        "--quiet",
    )
    later = _config(tmp_path, _entry(f"match = {json.dumps(WEB)}", expires="2026-01-31"))

    status, stderr, _ = _scan(tmp_path, later, "--baseline", str(base_dir / "out" / "scan.json"))

    document = json.loads((tmp_path / "out" / "scan.json").read_text(encoding="utf-8"))
    (change,) = [c for c in document["drift"]["changes"] if c["resource_name"] == "vm-web-01"]
    assert (change["change"], change["accepted_before"], change["accepted_after"]) == ("exception_expired", True, False)
    assert status is ExitStatus.FINDINGS
    assert "new exposure since the baseline: 1 resource(s) now open (vm-web-01)" in stderr
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<td>Exception expired</td>" in page and "<td>Open (accepted)</td><td>Open</td>" in page


def test_the_headline_the_summary_the_workbook_and_the_csv_agree_on_open_accepted_and_expired(tmp_path: Path) -> None:
    """The bundled register accepts vm-partner-relay (until 2030-12-31) and has expired for vm-web-01: the page's
    headline and summary, the workbook's summary and findings.csv count the same open, accepted and expired."""
    import re

    import openpyxl

    out = tmp_path / "out"
    run_cli(
        "scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out), "--quiet",
        "--format", "csv,html,xlsx",
    )  # fmt: skip
    with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    opened = [r for r in rows if r["verdict"] == "open"]
    csv_counts = (
        len(opened),
        sum(r["exception"] == "accepted" for r in opened),
        sum(r["exception"] == "expired" for r in opened),
    )
    page = (out / "report.html").read_text(encoding="utf-8")
    headline = re.search(r'<p class="lead">(\d+) resources can send.*?<span id="headline-accepted">(\d+)</span>', page)
    assert headline is not None
    summary_open = re.search(r'<tr class="v-open"><td>[^<]*</td><td class="num">(\d+)</td>', page)
    summary_accepted = re.search(r'<tr id="summary-accepted">.*?<td class="num">(\d+)</td>', page)
    summary_expired = re.search(r'<tr id="summary-expired">.*?<td class="num">(\d+)</td>', page)
    assert summary_open and summary_accepted and summary_expired
    page_counts = (int(summary_open[1]), int(summary_accepted[1]), int(summary_expired[1]))
    book = openpyxl.load_workbook(out / "findings.xlsx", read_only=True)
    summary = {row[0]: row[1] for row in book["summary"].iter_rows(values_only=True)}
    book_counts = (
        summary["Open"],
        summary["open, accepted by exceptions"],
        summary["open, their exception expired"],
    )
    register = list(book["Exceptions"].iter_rows(values_only=True))[1:]

    assert csv_counts == page_counts == book_counts and csv_counts[1:] == (1, 1)
    assert (int(headline[1]), int(headline[2])) == (csv_counts[0] - csv_counts[1], csv_counts[1])
    assert [(r[0], r[1]) for r in register] == [("Expired", "vm-web-01"), ("Accepted", "vm-partner-relay")]


def test_tags_come_from_the_resource_else_its_group_and_the_page_groups_actions_by_the_first(tmp_path: Path) -> None:
    """--tag reads each resource's tags and, where it has none of that name, its resource group's (Azure does not
    pass a group's tags on); findings.csv's `tags` says name=value for the names asked for; the page groups
    "What to do" by the first tag's values."""
    _, _, rows = _scan(tmp_path, CONTOSO_CONFIG, "--tag", "owner", "--tag", "role")

    assert rows["vm-partner-relay"]["tags"] == "owner=mail-team@contoso.com; role=smtp-relay"  # its own
    assert rows["vm-web-01"]["tags"] == "owner=web-team@contoso.com"  # no role tag: left out
    assert rows["app-edge-stopped"]["tags"] == "owner=network-team@contoso.com"  # its group's (rg-edge)
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    owners = page.split('<div id="owner-actions">', 1)[1].split("</div>\n", 1)[0]
    assert "<h3>By owner</h3>" in page
    assert "<b>web-team@contoso.com</b>" in owners and "<b>network-team@contoso.com</b>" in owners
    assert "mail-team@contoso.com" not in owners  # its one open resource is accepted: nothing to do


def test_a_tag_name_with_a_value_is_a_usage_error(tmp_path: Path) -> None:
    status, stderr, _ = _scan(tmp_path, CONTOSO_CONFIG, "--tag", "owner=me")

    assert status == 64 and "is not a tag name" in stderr
