"""Issue 4: drift and gates, scan.json's schema, XLSX, hostile text in every format, atomic writes, size at scale."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import openpyxl
import pytest

from auditor.report import write
from auditor.report.csv import neutralise
from auditor.report.html import TABLE_ROW_LIMIT, HtmlFormatter
from auditor.report.interface import rendered
from auditor.report.json import flat_findings, schema
from auditor.status import ExitStatus
from fixtures import arm_payloads as arm
from tests.conftest import CONTOSO, CONTOSO_CONFIG
from tests.recordings import run_cli, synthetic_result

SCAN = ["scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG)]


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def contoso_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("first")
    run_cli(*SCAN, "--out", str(out), "--quiet")
    return out / "scan.json"


def test_scan_json_follows_its_schema(contoso_scan: Path) -> None:
    document = json.loads(contoso_scan.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema())
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(document)) == []
    broken = {**document, "findings": [{**document["findings"][0], "verdict": "maybe"}]}
    assert list(validator.iter_errors(broken)), "the schema must reject an unknown verdict"


def _edited_baseline(contoso_scan: Path, tmp_path: Path) -> Path:
    """The bundled scan as it might have been last week."""
    document = json.loads(contoso_scan.read_text(encoding="utf-8"))
    findings = {f["resource_name"]: f for f in document["findings"]}
    findings["vm-batch-01"]["verdict"] = "blocked"  # now open: became open
    findings["vm-mail-01"]["verdict"] = "open"  # now denied_by_network: a change, not exposure
    del findings["vm-web-01"]  # open now, absent then: a new open resource
    prod = findings["vm-batch-01"]["subscription_id"]
    marketing = findings["vm-campaign-sender"]["subscription_id"]
    gone = {
        **findings["vm-batch-01"],
        "resource_name": "vm-decommissioned",
        "resource_id": findings["vm-batch-01"]["resource_id"].replace("vm-batch-01", "vm-decommissioned"),
    }
    unread = {
        **findings["vm-campaign-sender"],
        "verdict": "open",
        "resource_name": "app-landing",
        "resource_type": "Microsoft.Web/sites",
        "resource_id": f"/subscriptions/{marketing}/resourceGroups/rg-web/providers/Microsoft.Web/sites/app-landing",
    }
    assert gone["subscription_id"] == prod
    document["findings"] = [*findings.values(), gone, unread]
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_drift_against_a_baseline_and_exit_1_for_new_exposure(contoso_scan: Path, tmp_path: Path) -> None:
    baseline = _edited_baseline(contoso_scan, tmp_path)
    status, stdout, stderr = run_cli(
        *SCAN, "--out", str(tmp_path / "now"), "--baseline", str(baseline), "--format", "csv,json,html,xlsx"
    )
    assert status is ExitStatus.FINDINGS
    assert "new exposure since the baseline: 2 resource(s) now open (vm-batch-01, vm-web-01)" in stderr
    assert "INCOMPLETE" in stderr  # still said, though 1 wins
    changes = {
        (r["change"], r["resource_name"], r["verdict_before"], r["verdict_after"])
        for r in rows(tmp_path / "now" / "drift.csv")
    }
    assert changes == {
        ("verdict_changed", "vm-batch-01", "blocked", "open"),
        ("verdict_changed", "vm-mail-01", "open", "denied_by_network"),
        ("new", "vm-web-01", "", "open"),
        ("removed", "vm-decommissioned", "blocked", ""),  # copied from vm-batch-01 as edited above
        ("not_read", "app-landing", "open", ""),  # its subscription's sites list answered 403 this time
    }
    document = json.loads((tmp_path / "now" / "scan.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, schema())
    assert document["drift"]["new_exposure"] == 2 and len(document["drift"]["changes"]) == 5
    page = (tmp_path / "now" / "report.html").read_text(encoding="utf-8")
    assert "Changes since the baseline" in page and "vm-decommissioned" in page
    assert "drift" in openpyxl.load_workbook(tmp_path / "now" / "findings.xlsx").sheetnames
    assert "new exposure: 2" in stdout


def _documented_jq() -> str:
    """The jq program docs/reports.md gives to make schema 2's rows of a scan.json."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "reports.md").read_text(encoding="utf-8")
    block = text.split("```bash\n  jq '", 1)[1].split("' scan.json\n", 1)[0]
    return " ".join(line.strip() for line in block.splitlines())


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed: docs/reports.md's jq line is not run")
def test_the_documented_jq_line_gives_what_flat_findings_gives(contoso_scan: Path) -> None:
    """docs/reports.md tells tool writers how to join a schema_version 3 document with jq: it must give every
    finding as flat_findings does (the same keys and values, the path's hops in place)."""
    ran = subprocess.run(
        ["jq", "-c", _documented_jq(), str(contoso_scan)], capture_output=True, text=True, check=True, timeout=60
    )
    from_jq = [json.loads(line) for line in ran.stdout.splitlines()]
    assert from_jq == flat_findings(json.loads(contoso_scan.read_text(encoding="utf-8")))


@pytest.mark.parametrize("version", [1, 2])
def test_a_baseline_of_an_earlier_schema_version_is_still_read(
    contoso_scan: Path, tmp_path: Path, version: int
) -> None:
    """schema_version 2 held every column in each finding (3 writes what findings share once); 1 had no via,
    via_policy and relay_587. A baseline needs none of them: the same tenant again is no change."""
    document = json.loads(contoso_scan.read_text(encoding="utf-8"))
    document["findings"] = flat_findings(document)
    document["schema_version"] = version
    del document["hops"], document["explanations"]
    if version == 1:
        for finding in document["findings"]:
            for column in ("via", "via_policy", "relay_587"):
                del finding[column]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(document), encoding="utf-8")
    status, _, stderr = run_cli(*SCAN, "--out", str(tmp_path / "now"), "--baseline", str(old), "--format", "csv")
    assert status is ExitStatus.INCOMPLETE and "new exposure" not in stderr
    assert rows(tmp_path / "now" / "drift.csv") == []


def test_scan_json_gives_back_every_row_of_findings_csv(contoso_scan: Path) -> None:
    """Issue 28.1, 'without losing anything': each finding of the bundled tenant, joined with its subscription
    and explanation, is its row of findings.csv (the same run's), every column."""
    document = json.loads(contoso_scan.read_text(encoding="utf-8"))
    flat = flat_findings(document)
    by_id = {row["resource_id"]: row for row in rows(contoso_scan.with_name("findings.csv"))}
    assert len(flat) == len(by_id) == len(document["findings"]) > 50
    for finding in flat:
        row = by_id[finding["resource_id"]]
        cells = {name: str(neutralise("" if finding[name] is None else finding[name])) for name in row}
        assert cells == row, finding["resource_name"]
        assert all(hop["says"] for hop in finding["path"])


def test_an_unchanged_baseline_is_no_finding(contoso_scan: Path, tmp_path: Path) -> None:
    status, _, stderr = run_cli(*SCAN, "--out", str(tmp_path), "--baseline", str(contoso_scan), "--format", "csv")
    assert status is ExitStatus.INCOMPLETE and "new exposure" not in stderr
    assert rows(tmp_path / "drift.csv") == []


@pytest.mark.parametrize(
    ("gate", "status"),
    [
        (["--fail-on", "open"], ExitStatus.FINDINGS),
        (["--fail-on", "denied_by_network,unknown"], ExitStatus.FINDINGS),
        (["--fail-on", "blocked", "--fail-on", "open"], ExitStatus.FINDINGS),
        ([], ExitStatus.INCOMPLETE),
    ],
)
def test_fail_on(gate: list[str], status: ExitStatus, tmp_path: Path) -> None:
    got, _, stderr = run_cli(*SCAN, "--out", str(tmp_path), "--format", "json", *gate)
    assert got is status
    assert ("--fail-on:" in stderr) is (status is ExitStatus.FINDINGS)


def test_fail_on_a_verdict_no_resource_has(tmp_path: Path) -> None:
    scope = ["--subscription", arm.sub_id("trial")]  # one blocked VM only
    status, _, _ = run_cli(*SCAN, *scope, "--out", str(tmp_path), "--format", "json", "--fail-on", "open")
    assert status is ExitStatus.SUCCESS


def test_a_baseline_or_config_that_cannot_be_read_exits_66(tmp_path: Path) -> None:
    """README: 66, a file that cannot be read (a directory cannot be read as a file, even by root)."""
    for option in ("--baseline", "--config"):
        got, _, stderr = run_cli(*SCAN[:3], option, str(tmp_path), "--out", str(tmp_path / "r"))
        assert got is ExitStatus.NO_INPUT and "cannot be read" in stderr, option


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (None, ExitStatus.NO_INPUT, "no such file"),
        (
            '{"schema_version": 0, "tool": {"name": "port25-audit"}}',
            ExitStatus.DATA_ERROR,
            "scan.json schema_version 0 is not one this port25-audit reads (it reads 1, 2 and 3)",
        ),
        ('{"findings": []}', ExitStatus.DATA_ERROR, "not a port25-audit scan.json"),
        ("{", ExitStatus.DATA_ERROR, "not JSON"),
    ],
)
def test_unusable_baselines(tmp_path: Path, content: str | None, status: ExitStatus, message: str) -> None:
    path = tmp_path / "old.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    got, _, stderr = run_cli(*SCAN, "--out", str(tmp_path / "r"), "--baseline", str(path))
    assert got is status and message in stderr and stderr.count("\n") == 1 and not (tmp_path / "r").exists()


HOSTILE = [
    '<script>alert("x")</script>',
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(1,2)",
    "-2+3",
    "@cmd",
    "\tTAB",
    "\rCR",
    "new\nline",
    "quote\"s 'single' & <blink>",
    "ünïcödé 日本 🚀",
]
HOSTILE_SUBSCRIPTION = "=cmd|' /C calc'!A0"


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    recording = arm.Recording()
    recording.record(
        "/subscriptions",
        "subscriptions",
        arm.page([arm.subscription("hostile", HOSTILE_SUBSCRIPTION, "EnterpriseAgreement_2014-09-01")]),
    )
    sub = arm.sub_id("hostile")
    recording.record_subscription(sub, vms=[arm.vm(sub, "rg", name) for name in HOSTILE])
    directory = tmp_path_factory.mktemp("hostile")
    (directory / "tenant.json").write_text(json.dumps(recording.document()), encoding="utf-8")
    run_cli(
        "scan",
        "--replay",
        str(directory / "tenant.json"),
        "--out",
        str(directory / "r"),
        "--format",
        "csv,json,html,xlsx",
        "--quiet",
    )
    return directory / "r"


def _csv_safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def test_csv_keeps_hostile_text_and_neutralises_formulas(hostile_reports: Path) -> None:
    found = rows(hostile_reports / "findings.csv")
    assert sorted(r["resource_name"] for r in found) == sorted(_csv_safe(name) for name in HOSTILE)
    assert {r["subscription_name"] for r in found} == {_csv_safe(HOSTILE_SUBSCRIPTION)}


def test_xlsx_keeps_hostile_text_as_text(hostile_reports: Path) -> None:
    sheet = openpyxl.load_workbook(hostile_reports / "findings.xlsx")["findings"]
    header = [c.value for c in sheet[1]]
    names = [row[header.index("resource")] for row in sheet.iter_rows(min_row=2)]
    # XML turns a raw carriage return into a line feed on reading (XML 1.0, 2.11), so a writer escapes it as
    # _x000D_ (OOXML's escape, which Excel reads back as a carriage return; openpyxl leaves inline strings as stored)
    from openpyxl.utils.escape import unescape

    assert sorted(unescape(c.value) for c in names) == sorted(HOSTILE)
    assert all(c.data_type == "s" for c in names)  # nothing became a formula
    assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref == sheet.dimensions  # the names stay in view


def test_json_keeps_hostile_text_exactly(hostile_reports: Path) -> None:
    document = json.loads((hostile_reports / "scan.json").read_text(encoding="utf-8"))
    assert sorted(f["resource_name"] for f in document["findings"]) == sorted(HOSTILE)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.tags: list[str] = []
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.scripts += tag == "script"
        if tag == "td":
            self._in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells[-1] += data


def test_html_escapes_hostile_text(hostile_reports: Path) -> None:
    page = _Page()
    page.feed((hostile_reports / "report.html").read_text(encoding="utf-8"))
    assert page.scripts == 1 and "blink" not in page.tags  # only the report's own script; no injected element
    for name in HOSTILE:
        assert any(name.replace("\r", "\n") in cell or name in cell for cell in page.cells), name


def test_a_crash_while_writing_leaves_each_report_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "reports"
    run_cli(*SCAN, "--out", str(out), "--quiet")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_replace = write.os.replace
    calls = {"n": 0}

    def flaky(source: str, target: str) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(write.os, "replace", flaky)
    status, _, stderr = run_cli(*SCAN, "--out", str(out), "--ruleset", "2020", "--quiet")
    assert status is ExitStatus.CANT_CREATE and "No space left on device" in stderr
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(after) == set(before)  # no temporary file left behind
    assert sum(after[name] != before[name] for name in before) == 1  # the first file was replaced whole; the rest kept


def test_html_size_is_capped_and_says_so() -> None:
    small = rendered(HtmlFormatter().format(synthetic_result(TABLE_ROW_LIMIT + 1_000)))["report.html"]
    large = rendered(HtmlFormatter().format(synthetic_result(4 * TABLE_ROW_LIMIT)))["report.html"]
    page = large.decode("utf-8")
    assert page.count("data-verdict=") == TABLE_ROW_LIMIT
    assert f"This table shows {TABLE_ROW_LIMIT} of {4 * TABLE_ROW_LIMIT} resources" in page
    assert len(large) < 15 * 1024 * 1024
    assert abs(len(large) - len(small)) < 0.05 * len(small)  # past the cap, more resources barely grow the page
    # most severe first (open, then unknown, ...), so the cap keeps the most severe: here nothing else fits
    assert page.index('data-verdict="open"') < page.index('data-verdict="unknown"')
    assert 'data-verdict="blocked"' not in page and 'data-verdict="not_supported"' not in page


def test_history_keeps_each_run_and_shows_the_trend(tmp_path: Path) -> None:
    """Issue 14.11: --history DIR keeps each run's scan.json; report.html shows open and unknown over the runs kept
    (an inline SVG), and trend.csv lists them."""
    import datetime as dt
    import io

    from auditor.cli import Environment, main

    history = tmp_path / "history"
    history.mkdir()
    (history / "scan-20260101T000000Z.json").write_text("not a scan", encoding="utf-8")  # passed over, and said
    days = [dt.datetime(2026, 11, d, 8, tzinfo=dt.UTC) for d in (16, 23, 30)]
    for day in days:
        err = io.StringIO()
        env = Environment(stdout=io.StringIO(), stderr=err, now=lambda day=day: day)
        status = main([*SCAN, "--out", str(tmp_path / "r"), "--history", str(history)], env)
        assert status is ExitStatus.INCOMPLETE, err.getvalue()
    assert "history:" in err.getvalue() and "passed over" in err.getvalue()
    kept = sorted(p.name for p in history.iterdir())
    assert kept == ["scan-20260101T000000Z.json", *(f"scan-{d:%Y%m%dT%H%M%SZ}.json" for d in days)]
    trend = rows(tmp_path / "r" / "trend.csv")
    assert [r["started"] for r in trend] == [d.isoformat() for d in days]
    findings = rows(tmp_path / "r" / "findings.csv")
    assert {r["open"] for r in trend} == {str(sum(1 for f in findings if f["verdict"] == "open"))}
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert 'id="trend-chart"' in page and "Trend over the runs kept (3)" in page
    assert page.count("<circle") == 6  # open and unknown for each of the three runs


def test_history_keeps_the_same_scan_json_with_or_without_the_json_format(tmp_path: Path) -> None:
    """The kept copy is the scan.json written to --out, or rendered the same way when --format leaves it out."""
    import datetime as dt
    import io

    from auditor.cli import Environment, main

    day = dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC)
    for name, formats in (("with", "csv,json"), ("without", "csv")):
        env = Environment(stdout=io.StringIO(), stderr=io.StringIO(), now=lambda: day)
        main([*SCAN, "--out", str(tmp_path / name), "--history", str(tmp_path / f"h-{name}"), "--format", formats], env)
    kept = tmp_path / "h-with" / "scan-20261130T080000Z.json"
    assert kept.read_bytes() == (tmp_path / "with" / "scan.json").read_bytes()
    assert (tmp_path / "h-without" / kept.name).read_bytes() == kept.read_bytes()
    assert not (tmp_path / "without" / "scan.json").exists()


def test_html_names_the_relay_verdict_in_words(contoso_scan: Path) -> None:
    """The HTML is read by a person: the 587 relay verdict carries the same plain label as every other verdict."""
    page = (contoso_scan.parent / "report.html").read_text(encoding="utf-8")
    assert "relay on 587: Denied by network" in page
    assert "relay on 587: denied_by_network" not in page


def test_the_html_marks_exactly_the_changes_that_are_new_exposure() -> None:
    """The drift table highlights a row by `Change.is_new_exposure`, the rule the exit code follows: open now and
    not open before. A resource that stayed open with another change, or closed, is not marked."""
    from dataclasses import replace

    from auditor.model import Change, ChangeKind, Drift, Verdict

    def change(name: str, kind: ChangeKind, before: Verdict | None, after: Verdict | None) -> Change:
        return Change(
            kind, f"/subscriptions/x/vm/{name}", name, "Microsoft.Compute/virtualMachines", "x", before, after
        )

    changes = (
        change("opened", ChangeKind.VERDICT_CHANGED, Verdict.BLOCKED, Verdict.OPEN),
        change("arrived-open", ChangeKind.NEW, None, Verdict.OPEN),
        change("closed", ChangeKind.VERDICT_CHANGED, Verdict.OPEN, Verdict.BLOCKED),
        change("gone", ChangeKind.REMOVED, Verdict.OPEN, None),
    )
    result = replace(synthetic_result(0), drift=Drift("b", "2026-01-01", changes))

    page = rendered(HtmlFormatter().format(result))["report.html"].decode("utf-8")

    drift_section = page[page.index('id="drift-summary"') :]
    marked = [part.split("</td>", 2)[1].rsplit(">", 1)[-1] for part in drift_section.split('<tr class="v-open">')[1:]]
    assert marked == ["opened", "arrived-open"]
