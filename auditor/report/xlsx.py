"""findings.xlsx: findings (filters, frozen header), summary, by subscription, subscriptions, rules, drift.

The workbook is written by XlsxWriter in constant-memory mode (each row goes to disk as it is written), the
findings a slice of CHUNK_ROWS at a time, so a million findings take seconds and little memory. Past Excel's
1,048,576 rows the findings go on in a second sheet, and the summary says so. Every text cell is stored as text: a
leading = + - @ never runs as a formula, `#N/A` is never an error value, and a string is never taken for a link
or a number.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import partial
from typing import Any

import pandas as pd
import xlsxwriter

from auditor.classify.rules import EDITIONS, RULES
from auditor.model import (
    ChangeKind,
    Egress,
    ExceptionState,
    Offer,
    PlatformPolicy,
    PowerState,
    ScanResult,
    Verdict,
    name_of,
)
from auditor.report.counts import open_counts
from auditor.report.csv import FORMULA_PREFIXES
from auditor.report.interface import CHUNK_ROWS, Chunks, Formatter
from auditor.report.labels import label, type_label
from auditor.report.order import severity_order
from auditor.report.tables import (
    OVERVIEW_COLUMNS,
    drift_table,
    exceptions_table,
    findings_table,
    subscriptions_table,
    verdict_counts,
    verdicts_by_subscription,
)
from auditor.report.text import xml_safe

EXCEL_MAX_ROWS = 1_048_576
MAX_WIDTH = 60


def _summary(result: ScanResult, findings: pd.DataFrame, sheets: Sequence[str]) -> pd.DataFrame:
    meta = result.metadata
    counts = open_counts(result.findings)
    rows: list[tuple[str, Any]] = [
        ("scan started", meta.started.isoformat()),
        ("scan finished", meta.finished.isoformat()),
        ("tool version", meta.tool_version),
        ("rules", f"{EDITIONS[meta.ruleset].name} (--ruleset {meta.ruleset.value})"),
        ("source", meta.source),
        (
            "audit config",
            f"{meta.config.path} ({meta.config.subscriptions} subscription(s); SHA-256 {meta.config.sha256})"
            if meta.config
            else "none",
        ),
        ("scope", ", ".join(meta.scope) or "every subscription the identity can see"),
        ("audit complete", "yes" if result.complete else "NO: see the subscriptions sheet, column collection"),
        *((label(Verdict, verdict), count) for verdict, count in verdict_counts(findings).items()),
        ("open, accepted by exceptions", counts.accepted),
        ("open, their exception expired", counts.expired),
        ("resources", len(findings)),
    ]
    if len(sheets) > 1:
        rows.append(
            (
                "findings sheets",
                f"{len(findings)} findings, most severe first, over {', '.join(sheets)} (Excel holds "
                f"{EXCEL_MAX_ROWS:,} rows a sheet)",
            )
        )
    if len(findings) > MAX_LINKS:
        rows.append(
            (
                "portal links",
                f"on each findings sheet, the names of the first {MAX_LINKS:,} resources link to the portal (Excel's "
                "limit a sheet); every resource's id is in its resource_id column",
            )
        )
    return pd.DataFrame(rows, columns=["item", "value"])


def _rules(result: ScanResult) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (
                r.id,
                label(PlatformPolicy, r.policy),
                r.summary,
                r.citation,
                r.quote_english,
                f"{r.edition.language_name}: {r.quote}",
                r.remediation,
            )
            for r in RULES[result.metadata.ruleset]
        ],
        columns=[
            "rule",
            "Azure's policy",
            "what it says",
            "citation",
            "the article says",
            "in the original",
            "remediation",
        ],
    )


def _widths(table: pd.DataFrame) -> list[float]:
    sample = table.head(200)
    widths: list[float] = []
    for name in table.columns:
        if name in WRAPPED:
            widths.append(WRAPPED[name])
            continue
        longest = max([len(str(name)), *(len(str(v)) for v in sample[name] if v is not None)])
        widths.append(min(max(longest + 2, 8), MAX_WIDTH))
    return widths


# Excel keeps at most this many hyperlinks a sheet: past them a name is text (the id is in its own column).
MAX_LINKS = 65_530
MAX_URL = 2_079  # Excel's longest link


class _Book:
    """The workbook and the formats every sheet shares."""

    def __init__(self, buffer: io.BytesIO, result: ScanResult) -> None:
        self.book = xlsxwriter.Workbook(
            buffer,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "nan_inf_to_errors": True,
            },
        )
        self.book.set_properties(
            {
                "author": f"port25-audit {result.metadata.tool_version}",
                "created": result.metadata.started.replace(tzinfo=None),
            }
        )
        self.header = self.book.add_format(
            {"bold": True, "font_color": "#FFFFFF", "bg_color": "#2F5597", "text_wrap": True, "valign": "top"}
        )
        self.wrap = self.book.add_format({"text_wrap": True, "valign": "top"})
        self.quoted = self.book.add_format({"quote_prefix": True})
        self.wrap_quoted = self.book.add_format({"text_wrap": True, "valign": "top", "quote_prefix": True})
        self.link = self.book.add_format({"font_color": "#0563C1", "underline": 1})


class _Sheet:
    """One sheet, written a row at a time: header, widths, filters and frozen panes as the people's views want."""

    def __init__(self, book: _Book, name: str, sample: pd.DataFrame, *, freeze_names: bool = False) -> None:
        self.book = book
        self.sheet = book.book.add_worksheet(name)
        self.columns = list(sample.columns)
        self.wrapped = frozenset(index for index, column in enumerate(self.columns) if column in WRAPPED)
        for index, width in enumerate(_widths(sample)):
            self.sheet.set_column(index, index, width)
        self.sheet.freeze_panes(1, 1 if freeze_names else 0)
        for index, column in enumerate(self.columns):
            self.sheet.write_string(0, index, xml_safe(str(column)), book.header)
        self.row = 1
        self.links = 0

    def write(self, table: pd.DataFrame, links: Sequence[str] = ()) -> None:
        """The table's rows; `links`: a portal link for each row's first cell (the resource's name)."""
        sheet, book, wrapped = self.sheet, self.book, self.wrapped
        for offset, values in enumerate(table.itertuples(index=False, name=None)):
            row = self.row + offset
            for column, value in enumerate(values):
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    continue
                if isinstance(value, str):
                    if not value:  # an empty cell: nothing to write (a third of the findings sheet's cells)
                        continue
                    text = xml_safe(value)  # a control character would make the workbook unreadable
                    quoted = text.startswith(FORMULA_PREFIXES)
                    if column in wrapped:
                        sheet.write_string(row, column, text, book.wrap_quoted if quoted else book.wrap)
                    elif column == 0 and links and self._link(row, text, links[offset]):
                        continue
                    else:
                        sheet.write_string(row, column, text, book.quoted if quoted else None)
                elif isinstance(value, bool):
                    sheet.write_boolean(row, column, value)
                elif isinstance(value, (int, float)):
                    sheet.write_number(row, column, value)
                else:
                    sheet.write_string(row, column, xml_safe(str(value)))
        self.row += len(table)

    def _link(self, row: int, text: str, url: str) -> bool:
        if self.links >= MAX_LINKS or len(url) > MAX_URL or text.startswith(FORMULA_PREFIXES):
            return False
        self.links += 1
        return self.sheet.write_url(row, 0, url, self.book.link, string=text) == 0

    def finish(self) -> None:
        self.sheet.autofilter(0, 0, max(0, self.row - 1), max(0, len(self.columns) - 1))


def _write_table(book: _Book, name: str, table: pd.DataFrame) -> None:
    sheet = _Sheet(book, name, table)
    sheet.write(table)
    sheet.finish()


# The findings sheet, for people: who and what first, the verdict and what to do, then why, then the rest; the
# machine columns (ids, as findings.csv names them) to the right. Each: its header, and its findings.csv column.
PEOPLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("resource", "resource_name"),
    ("subscription", "subscription_name"),
    ("verdict", "verdict"),
    ("what to do", "remediation"),
    ("Azure's policy", "platform_policy"),  # "Blocked, exemption available": where the block can be lifted
    ("why", "reason"),
    ("egress", "egress"),
    ("via", "via"),
    ("relay on 587", "relay_587"),
    ("state", "state"),
    ("rule", "rule"),
    ("exception", "exception"),
    ("exception owner", "exception_owner"),
    ("exception expires", "exception_expires"),
    ("exception ticket", "exception_ticket"),
    ("tags", "tags"),
    ("type", "resource_type"),
    ("kind", "kind"),
    ("resource group", "resource_group"),
    ("location", "location"),
    ("offer", "offer"),
    ("resource_id", "resource_id"),
    ("subscription_id", "subscription_id"),
    ("tenant_id", "tenant_id"),
    ("quota_id", "quota_id"),
)
# Columns of long text: wrapped in a column this wide (the rest are as wide as their values, up to MAX_WIDTH).
WRAPPED = {"what to do": 70, "why": 70}
_LABELLED = {
    "verdict": Verdict,
    "platform_policy": PlatformPolicy,
    "egress": Egress,
    "relay_587": Verdict,
    "state": PowerState,
    "exception": ExceptionState,
    "offer": Offer,
}


def _people(table: pd.DataFrame) -> pd.DataFrame:
    """A slice of findings.csv's table as the findings sheet shows it: its columns, labelled for people."""
    people = {}
    for header, column in PEOPLE_COLUMNS:
        values = table[column]
        if column in _LABELLED:
            values = values.map(partial(label, _LABELLED[column]))
        elif column == "resource_type":
            values = values.map(type_label)
        elif column == "via":
            values = values.map(name_of)
        people[header] = values
    return pd.DataFrame(people)


def _write_findings(book: _Book, result: ScanResult, overview: pd.DataFrame) -> list[str]:
    """Every finding, most severe first, a slice at a time; past a sheet's rows on the next sheet. The sheets'
    names."""
    order, _ = severity_order(overview)
    findings, meta = result.findings, result.metadata
    names: list[str] = []
    sheet: _Sheet | None = None
    for start in range(0, max(len(order), 1), CHUNK_ROWS):
        part = [findings[int(position)] for position in order[start : start + CHUNK_ROWS]]
        table = _people(findings_table(part))
        while True:
            if sheet is None or sheet.row == EXCEL_MAX_ROWS:  # the sheet is full (its header is row 0)
                if sheet is not None:
                    sheet.finish()
                names.append("findings" if not names else f"findings ({len(names) + 1})")
                sheet = _Sheet(book, names[-1], table, freeze_names=True)
            room = table.iloc[: EXCEL_MAX_ROWS - sheet.row]
            rows = part[: len(room)]
            links = (
                [meta.portal_link(f.resource.resource_id, f.tenant_id) for f in rows] if sheet.links < MAX_LINKS else []
            )
            sheet.write(room, links)
            table, part = table.iloc[len(room) :], part[len(room) :]
            if table.empty:
                break
    if sheet is not None:
        sheet.finish()
    return names


def _subscriptions(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """subscriptions.csv's table, its offers, policies and verdicts in words (the CSV keeps the values)."""
    return subscriptions.assign(
        offer=subscriptions["offer"].map(partial(label, Offer)),
        vm_policy=subscriptions["vm_policy"].map(partial(label, PlatformPolicy)),
    ).rename(columns={v.value: label(Verdict, v) for v in Verdict})


def _drift(drift: pd.DataFrame) -> pd.DataFrame:
    """drift.csv's table, its changes, verdicts and types in words."""
    return drift.assign(
        change=drift["change"].map(partial(label, ChangeKind)),
        resource_type=drift["resource_type"].map(type_label),
        verdict_before=drift["verdict_before"].map(partial(label, Verdict)),
        verdict_after=drift["verdict_after"].map(partial(label, Verdict)),
    )


def _by_subscription(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """Verdicts per subscription, the verdicts and offers in words."""
    table = verdicts_by_subscription(subscriptions)
    table["offer"] = table["offer"].map(partial(label, Offer))
    # the name first, the id last (a GUID opened the sheet)
    order = ["subscription_name", "offer", *[v.value for v in Verdict], "total", "collection", "offer_note"]
    return table[[*order, "subscription_id"]].rename(columns={v.value: label(Verdict, v) for v in Verdict})


class XlsxFormatter(Formatter):
    FILE_NAMES = frozenset({"findings.xlsx"})

    def format(self, result: ScanResult) -> dict[str, Chunks]:
        findings = findings_table(result.findings, OVERVIEW_COLUMNS)
        subscriptions = subscriptions_table(result)
        buffer = io.BytesIO()
        book = _Book(buffer, result)
        sheets = _write_findings(book, result, findings)
        tables = {
            "summary": _summary(result, findings, sheets),
            "by subscription": _by_subscription(subscriptions),
            "subscriptions": _subscriptions(subscriptions),
            "rules": _rules(result),
        }
        if result.drift is not None:
            tables["drift"] = _drift(drift_table(result))
        if result.exceptions.stale or any(f.exception for f in result.findings):
            # the register as this run applied it
            tables["Exceptions"] = exceptions_table(result).drop(columns=["attention"])
        for name, table in tables.items():
            _write_table(book, name, table)
        book.book.close()
        return {"findings.xlsx": [buffer.getvalue()]}
