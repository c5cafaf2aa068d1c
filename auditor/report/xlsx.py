"""findings.xlsx: findings (filters, frozen header), summary, subscriptions, rules and, with a baseline, drift."""

from __future__ import annotations

import io

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from auditor.classify.rules import RULES
from auditor.model import ScanResult
from auditor.report.interface import Formatter
from auditor.report.tables import (
    drift_table,
    findings_table,
    subscriptions_table,
    verdict_counts,
    verdicts_by_subscription,
)

MAX_WIDTH = 60


def _summary(result: ScanResult, findings: pd.DataFrame) -> pd.DataFrame:
    meta = result.metadata
    rows = [
        ("scan started", meta.started.isoformat()),
        ("scan finished", meta.finished.isoformat()),
        ("tool version", meta.tool_version),
        ("ruleset", meta.ruleset.value),
        ("source", meta.source),
        ("scope", ", ".join(meta.scope) or "every subscription the identity can see"),
        ("audit complete", "yes" if result.complete else "NO: see the subscriptions sheet, column collection"),
        *((f"verdict {verdict}", count) for verdict, count in verdict_counts(findings).items()),
        ("resources", len(findings)),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])


def _rules(result: ScanResult) -> pd.DataFrame:
    return pd.DataFrame(
        [(r.id, r.policy.value, r.summary, r.citation, r.quote, r.remediation) for r in RULES[result.metadata.ruleset]],
        columns=["rule", "platform_policy", "what it says", "citation", "article sentence", "remediation"],
    )


def _finish(sheet: Worksheet) -> None:
    """Text stays text (a leading = + - @ never runs as a formula), header frozen and filterable, columns sized."""
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
                cell.quotePrefix = True
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, column in enumerate(sheet.iter_cols(min_row=1, max_row=min(sheet.max_row, 200)), start=1):
        width = max((len(str(c.value)) for c in column if c.value is not None), default=8)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), MAX_WIDTH)


class XlsxFormatter(Formatter):
    def format(self, result: ScanResult) -> dict[str, bytes]:
        findings = findings_table(result)
        subscriptions = subscriptions_table(result)
        sheets = {
            "findings": findings,
            "summary": _summary(result, findings),
            "by subscription": verdicts_by_subscription(subscriptions),
            "subscriptions": subscriptions,
            "rules": _rules(result),
        }
        if result.drift is not None:
            sheets["drift"] = drift_table(result)
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            for name, table in sheets.items():
                table.to_excel(writer, sheet_name=name, index=False)
                _finish(writer.sheets[name])
        return {"findings.xlsx": buffer.getvalue()}
