"""findings.xlsx: findings (filters, frozen header), summary, by subscription, subscriptions, rules, drift.

The workbook is written in openpyxl's streaming (write-only) mode, from the pandas tables, so a million findings
fit in memory. Every text cell is stored as text: a leading = + - @ never runs as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from auditor.classify.rules import RULES
from auditor.model import Finding, ScanMetadata, ScanResult
from auditor.report.counts import open_counts
from auditor.report.csv import FORMULA_PREFIXES
from auditor.report.interface import Chunks, Formatter
from auditor.report.labels import POLICY_LABELS, SEVERITY_LABELS, by_severity
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
        ("ruleset", meta.ruleset.value),
        ("source", meta.source),
        (
            "audit config",
            f"{meta.config.path} ({meta.config.subscriptions} subscription(s); SHA-256 {meta.config.sha256})"
            if meta.config
            else "none",
        ),
        ("scope", ", ".join(meta.scope) or "every subscription the identity can see"),
        ("audit complete", "yes" if result.complete else "NO: see the subscriptions sheet, column collection"),
        *((f"verdict {verdict}", count) for verdict, count in verdict_counts(findings).items()),
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
                r.policy.value,
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
            "platform_policy",
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
        longest = max([len(str(name)), *(len(str(v)) for v in sample[name] if v is not None)])
        widths.append(min(max(longest + 2, 8), MAX_WIDTH))
    return widths


def _write_sheet(book: Workbook, name: str, table: pd.DataFrame, portal: ScanMetadata | None = None) -> None:
    sheet = book.create_sheet(name)
    for index, width in enumerate(_widths(table), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    last_column = get_column_letter(max(1, len(table.columns)))
    sheet.auto_filter.ref = f"A1:{last_column}{len(table) + 1}"
    sheet.append([xml_safe(str(c)) for c in table.columns])
    rows: Iterable[tuple[Any, ...]] = table.itertuples(index=False, name=None)
    linked = list(table.columns).index("resource_name") if portal and "resource_id" in table.columns else None
    ids = list(table.columns).index("resource_id") if linked is not None else 0
    tenants = list(table.columns).index("tenant_id") if linked is not None and "tenant_id" in table.columns else None
    for row in rows:
        cells = [_cell(sheet, value) for value in row]
        if linked is not None and portal is not None:  # the resource's name opens it in the portal
            link = WriteOnlyCell(sheet, value=xml_safe(str(row[linked])))
            link.data_type = "s"
            link.hyperlink = portal.portal_link(str(row[ids]), str(row[tenants]) if tenants is not None else "")
            cells[linked] = link
        sheet.append(cells)


def _for_people(findings: Sequence[Finding], overview: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The first `limit` most severe first, with plain labels for the verdict and the platform policy (the CSV keeps
    the values)."""
    ordered = by_severity(findings, overview, limit)
    return ordered.assign(
        verdict=ordered["severity"].map(SEVERITY_LABELS),
        platform_policy=ordered["platform_policy"].map(POLICY_LABELS),
    ).drop(columns=["severity", "severity_rank"])


class XlsxFormatter(Formatter):
    FILE_NAMES = frozenset({"findings.xlsx"})

    def format(self, result: ScanResult) -> dict[str, Chunks]:
        findings = findings_table(result.findings, OVERVIEW_COLUMNS)
        truncated = max(0, len(findings) - (EXCEL_MAX_ROWS - 1))
        subscriptions = subscriptions_table(result)
        sheets = {
            "findings": _for_people(result.findings, findings, EXCEL_MAX_ROWS - 1),
            "summary": _summary(result, findings, truncated),
            "by subscription": verdicts_by_subscription(subscriptions),
            "subscriptions": subscriptions,
            "rules": _rules(result),
        }
        if result.drift is not None:
            sheets["drift"] = drift_table(result)
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
