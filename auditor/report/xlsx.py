"""findings.xlsx: findings (filters, frozen header), summary, by subscription, subscriptions, rules, drift.

The workbook is written in openpyxl's streaming (write-only) mode, from the pandas tables, so a million findings
fit in memory. Every text cell is stored as text: a leading = + - @ never runs as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import partial
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from auditor.classify.rules import EDITIONS, RULES
from auditor.model import (
    ChangeKind,
    Egress,
    ExceptionState,
    Finding,
    Offer,
    PlatformPolicy,
    PowerState,
    ScanMetadata,
    ScanResult,
    Verdict,
)
from auditor.report.counts import open_counts
from auditor.report.csv import FORMULA_PREFIXES
from auditor.report.interface import Chunks, Formatter
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


def _summary(result: ScanResult, findings: pd.DataFrame, truncated: int) -> pd.DataFrame:
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
    if truncated:
        rows.append(
            (
                "findings sheet",
                f"the first {EXCEL_MAX_ROWS - 1} of {len(findings)} (Excel's row limit); "
                "all are in findings.csv and scan.json",
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


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if not isinstance(value, str):
        return value
    value = xml_safe(value)  # a control character would make openpyxl refuse the whole workbook
    if value.startswith(FORMULA_PREFIXES) or value in ERROR_CODES:
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text, never a formula or an error value such as #N/A
        cell.quotePrefix = value.startswith(FORMULA_PREFIXES)
        return cell
    return value


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


_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="2F5597")
_HEADER_ALIGNMENT = Alignment(vertical="top", wrap_text=True)
_WRAP = Alignment(vertical="top", wrap_text=True)
_TOP = Alignment(vertical="top")


def _header(sheet: WriteOnlyWorksheet, name: object) -> Cell:
    cell = WriteOnlyCell(sheet, value=xml_safe(str(name)))
    cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGNMENT
    return cell


def _wrapped(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    cell = _cell(sheet, value)
    if not isinstance(cell, Cell):
        cell = WriteOnlyCell(sheet, value=cell)
    cell.alignment = _WRAP
    return cell


def _write_sheet(book: Workbook, name: str, table: pd.DataFrame, portal: ScanMetadata | None = None) -> None:
    sheet = book.create_sheet(name)
    for index, width in enumerate(_widths(table), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "B2" if name == "findings" else "A2"
    last_column = get_column_letter(max(1, len(table.columns)))
    sheet.auto_filter.ref = f"A1:{last_column}{len(table) + 1}"
    sheet.append([_header(sheet, c) for c in table.columns])
    columns = list(table.columns)
    wrapped = [index for index, column in enumerate(columns) if column in WRAPPED]
    linked = columns.index("resource") if portal and "resource_id" in columns else None
    ids = columns.index("resource_id") if linked is not None else 0
    tenants = columns.index("tenant_id") if linked is not None and "tenant_id" in columns else None
    for row in table.itertuples(index=False, name=None):
        cells = [_cell(sheet, value) for value in row]
        for index in wrapped:
            cells[index] = _wrapped(sheet, row[index])
        if linked is not None and portal is not None:  # the resource's name opens it in the portal
            link = WriteOnlyCell(sheet, value=xml_safe(str(row[linked])))
            link.data_type = "s"
            link.hyperlink = portal.portal_link(str(row[ids]), str(row[tenants]) if tenants is not None else "")
            cells[linked] = link
        sheet.append(cells)


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


def _for_people(findings: Sequence[Finding], overview: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The first `limit` most severe first, labelled for people (the CSV keeps the values)."""
    order, _ = severity_order(overview, limit)
    table = findings_table([findings[position] for position in order])
    people = {}
    for header, column in PEOPLE_COLUMNS:
        values = table[column]
        if column in _LABELLED:
            values = values.map(partial(label, _LABELLED[column]))
        elif column == "resource_type":
            values = values.map(type_label)
        elif column == "via":
            values = values.map(lambda via: via.rsplit("/", 1)[-1])
        people[header] = values
    return pd.DataFrame(people)


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
    return table.rename(columns={v.value: label(Verdict, v) for v in Verdict})


class XlsxFormatter(Formatter):
    FILE_NAMES = frozenset({"findings.xlsx"})

    def format(self, result: ScanResult) -> dict[str, Chunks]:
        findings = findings_table(result.findings, OVERVIEW_COLUMNS)
        truncated = max(0, len(findings) - (EXCEL_MAX_ROWS - 1))
        subscriptions = subscriptions_table(result)
        sheets = {
            "findings": _for_people(result.findings, findings, EXCEL_MAX_ROWS - 1),
            "summary": _summary(result, findings, truncated),
            "by subscription": _by_subscription(subscriptions),
            "subscriptions": _subscriptions(subscriptions),
            "rules": _rules(result),
        }
        if result.drift is not None:
            sheets["drift"] = _drift(drift_table(result))
        if result.exceptions.stale or any(f.exception for f in result.findings):
            sheets["Exceptions"] = exceptions_table(result)  # the register as this run applied it
        book = Workbook(write_only=True)
        book.properties.created = book.properties.modified = result.metadata.started.replace(tzinfo=None)
        book.properties.creator = f"port25-audit {result.metadata.tool_version}"
        for name, table in sheets.items():
            _write_sheet(book, name, table, result.metadata if name == "findings" else None)
        buffer = io.BytesIO()
        book.save(buffer)
        return {"findings.xlsx": [buffer.getvalue()]}
