"""Issue 27.1: every view of one scan counts and names the verdicts alike. The page said "Blocked by Azure 14" in
its summary and showed 12 "Blocked by Azure" and 2 "Exemption available" in its findings; the workbook had six
verdicts; README, CLI, CSV and JSON five. Here the terminal's summary, the page (its summary and its rows), the
workbook (its summary and its findings sheet) and findings.csv are read back, and their counts compared."""

from __future__ import annotations

import csv
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from auditor.model import Verdict
from auditor.report.labels import LABELS
from tests.conftest import CONTOSO, CONTOSO_CONFIG
from tests.recordings import run_cli

FIVE = [LABELS[Verdict][verdict] for verdict in Verdict]


class _Page(HTMLParser):
    """The page's verdict summary (label → count) and the verdict label of each findings row."""

    def __init__(self) -> None:
        super().__init__()
        self.summary: dict[str, int] = {}
        self.rows: list[str] = []
        self._where: list[str] = []
        self._cells: list[str] = []
        self._in_summary = False
        self._in_verdict = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table":
            self._in_summary = attributes.get("id") == "summary-verdicts"
        if self._in_summary and tag == "tr":
            self._cells = []
        if self._in_summary and tag == "td":
            self._cells.append("")
        if tag == "span" and attributes.get("class") == "verdict":
            self._in_verdict = True
            self.rows.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_summary = False
        if self._in_summary and tag == "tr" and len(self._cells) == 2 and self._cells[0] in FIVE:
            self.summary[self._cells[0]] = int(self._cells[1])
        if tag == "span":
            self._in_verdict = False

    def handle_data(self, data: str) -> None:
        if self._in_summary and self._cells:
            self._cells[-1] += data.strip()
        if self._in_verdict:
            self.rows[-1] += data


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("views")
    _, stdout, _ = run_cli(
        "scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out),
        "--format", "csv,html,xlsx",
    )  # fmt: skip
    return out, stdout


def test_the_terminal_the_page_the_workbook_and_the_csv_count_the_same_five_verdicts(
    scanned: tuple[Path, str],
) -> None:
    out, stdout = scanned
    with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
        by_value = Counter(row["verdict"] for row in csv.DictReader(stream))
    from_csv = {LABELS[Verdict][verdict]: by_value[verdict.value] for verdict in Verdict}

    lines = stdout.splitlines()
    header = next(line for line in lines if line.startswith("┃"))
    counts = next(line for line in lines if line.startswith("│"))
    from_terminal = dict(
        zip(
            [cell.strip() for cell in header.strip("┃").split("┃")],
            [int(cell) for cell in counts.strip("│").split("│")],
            strict=True,
        )
    )

    page = _Page()
    page.feed((out / "report.html").read_text(encoding="utf-8"))
    from_page_rows = {label: page.rows.count(label) for label in FIVE}

    book = openpyxl.load_workbook(out / "findings.xlsx", read_only=True)
    summary = {row[0]: row[1] for row in book["summary"].iter_rows(values_only=True)}
    from_book_summary = {label: summary[label] for label in FIVE}
    findings = list(book["findings"].iter_rows(values_only=True))
    verdict_at = findings[0].index("verdict")
    from_book_rows = {label: sum(1 for row in findings[1:] if row[verdict_at] == label) for label in FIVE}

    assert sum(from_csv.values()) == 62 and all(from_csv.values()), "the bundled tenant has every verdict"
    assert from_terminal == from_csv
    assert page.summary == from_csv
    assert from_page_rows == from_csv and set(page.rows) == set(FIVE)
    assert from_book_summary == from_csv
    assert from_book_rows == from_csv


# The model's enums no report shows a person as a value of its own, and why.
NOT_SHOWN = {
    "ListName": "Azure's own list names, said in errors as Azure names them (virtualNetworks: HTTP 403)",
    "ErrorCode": "error codes, beside Azure's own, said as codes",
    "Ruleset": "the --ruleset value; reports say the edition's name",
    "StoppedState": "the --include-state value; subscription states are Azure's words",
}


def test_every_enum_a_report_shows_has_a_label_for_every_member() -> None:
    """Issue 27.2: one label table covers every enum the people's views show; no member lacks a label."""
    import enum
    import inspect

    import auditor.model

    enums = {
        name: member
        for name, member in inspect.getmembers(auditor.model, inspect.isclass)
        if issubclass(member, enum.StrEnum) and member.__module__ == "auditor.model"
    }
    labelled = {cls.__name__ for cls in LABELS}
    assert set(enums) == labelled | set(NOT_SHOWN), set(enums) ^ (labelled | set(NOT_SHOWN))
    for cls, labels in LABELS.items():
        assert set(labels) == set(cls), cls.__name__  # every member, nothing else
        assert len(set(labels.values())) == len(labels), f"{cls.__name__}: two members read alike"
        assert all(label and "_" not in label for label in labels.values()), cls.__name__


def test_reasons_are_short_and_name_things_by_name(scanned: tuple[Path, str]) -> None:
    """Issue 27.5: the longest reasons were 700-1,000 characters of ARM ids, payload flags and how the offer was
    read. Now: names, not ids (the ids stay in scan.json's path); flags in words; the offer's reading in
    subscriptions.csv; a median of at most 200 characters, none over 400."""
    import statistics

    out, _ = scanned
    with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
        reasons = [row["reason"] for row in csv.DictReader(stream)]
    lengths = sorted(map(len, reasons))
    assert statistics.median(lengths) <= 200 and lengths[-1] <= 400, (statistics.median(lengths), lengths[-5:])
    machine = {member.value for members in LABELS.values() for member in members if "_" in member}
    for reason in reasons:
        assert "/subscriptions/" not in reason and "payload" not in reason, reason
        assert "outboundVnetRouting" not in reason and "vnetRouteAllEnabled" not in reason, reason
        assert not machine & set(reason.replace("(", " ").replace(")", " ").replace(",", " ").split()), reason
        # how the offer was read is in subscriptions.csv; a reason says it only where it is the gap
        assert "quotaId" not in reason or "Offer unknown" in reason, reason


def test_the_workbook_opens_with_what_a_person_needs_in_words(scanned: tuple[Path, str]) -> None:
    """Issue 27.6: the findings sheet opened with two GUIDs and had the verdict in column N, no header style, no
    wrap, 1,000-character reasons on one line in a 60-wide column; and 27.2: every value in words."""
    out, _ = scanned
    book = openpyxl.load_workbook(out / "findings.xlsx")
    sheet = book["findings"]
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["resource", "subscription", "verdict", "what to do"]
    machine_columns = ["resource_id", "subscription_id", "tenant_id", "quota_id"]
    assert header[-len(machine_columns) :] == machine_columns  # the ids at the right
    assert all(cell.font.bold and cell.fill.fgColor.rgb.endswith("2F5597") for cell in sheet[1])
    assert sheet.freeze_panes == "B2"  # the header and the names stay in view
    for name in ("what to do", "why"):
        column = header.index(name) + 1
        letter = openpyxl.utils.get_column_letter(column)
        assert sheet.column_dimensions[letter].width >= 60
        assert all(sheet.cell(row, column).alignment.wrap_text for row in range(2, sheet.max_row + 1))
    machine = {member.value for members in LABELS.values() for member in members if "_" in member}
    machine |= {"open", "blocked", "unknown"}
    for name in ("findings", "summary", "by subscription", "subscriptions", "rules", "Exceptions"):
        rows = list(book[name].iter_rows(values_only=True))
        shown = {cell for row in rows for cell in row if isinstance(cell, str)} & machine
        assert shown == set(), (name, shown)


def test_findings_past_a_sheet_s_rows_go_on_in_the_next_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 28.2: past Excel's 1,048,576 rows the findings go on in a second sheet (they stopped there), and the
    summary says so; past Excel's 65,530 links a sheet, names are text and the summary says why. Here a sheet of
    10 rows and 7 links stand for Excel's limits."""
    import auditor.report.xlsx

    monkeypatch.setattr(auditor.report.xlsx, "EXCEL_MAX_ROWS", 11)
    monkeypatch.setattr(auditor.report.xlsx, "MAX_LINKS", 7)
    out = tmp_path / "r"
    run_cli(
        "scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out), "--format", "csv,xlsx"
    )
    book = openpyxl.load_workbook(out / "findings.xlsx")
    sheets = [name for name in book.sheetnames if name.startswith("findings")]
    assert sheets == ["findings", *(f"findings ({n})" for n in range(2, 8))]  # 62 findings, 10 a sheet
    names = [row[0].value for name in sheets for row in book[name].iter_rows(min_row=2)]
    with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
        assert sorted(names) == sorted(row["resource_name"] for row in csv.DictReader(stream))
    assert all(book[name].max_row <= 11 for name in sheets)
    for name in sheets:
        linked = [row[0].hyperlink is not None for row in book[name].iter_rows(min_row=2)]
        assert linked == [True] * min(7, len(linked)) + [False] * max(0, len(linked) - 7), name
    summary = {row[0]: row[1] for row in book["summary"].iter_rows(values_only=True)}
    assert summary["findings sheets"].startswith("62 findings, most severe first, over findings, findings (2)")
    assert summary["portal links"].startswith("on each findings sheet, the names of the first 7 resources link")


def test_the_headline_names_every_subscription_with_open_resources_past_the_open_now_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "Open now" shows the first OPEN_NOW_LIMIT open resources; the headline still names every subscription that has
    one (it took them from the capped list). Here a cap of 2 stands for 100."""
    import re

    import auditor.report.html

    monkeypatch.setattr(auditor.report.html, "OPEN_NOW_LIMIT", 2)
    out = tmp_path / "r"
    run_cli(
        "scan", "--replay", str(CONTOSO), "--config", str(CONTOSO_CONFIG), "--out", str(out), "--format", "csv,html"
    )
    with (out / "findings.csv").open(encoding="utf-8", newline="") as stream:
        opened = [r for r in csv.DictReader(stream) if r["verdict"] == "open" and r["exception"] != "accepted"]
    page = (out / "report.html").read_text(encoding="utf-8")
    lead = re.search(r'<p class="lead">(.*?)</p>', page, re.S)
    assert lead is not None
    subscriptions = {r["subscription_name"] for r in opened}
    assert len(subscriptions) > 1 and all(name in lead[1] for name in subscriptions), lead[1]
    assert f"{len(opened)} resources can send mail" in lead[1]
    assert page.count('<tr class="v-open"><td><a href=') == 2  # the capped "Open now" rows
