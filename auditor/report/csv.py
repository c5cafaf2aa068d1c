"""findings.csv and subscriptions.csv."""

from __future__ import annotations

import pandas as pd

from auditor.model import ScanResult
from auditor.report.interface import Formatter
from auditor.report.tables import drift_table, findings_table, subscriptions_table

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection); nothing is lost."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_column(column: pd.Series) -> pd.Series:
    """`neutralise` for a whole text column at once (pandas' vectorised string methods)."""
    if column.dtype != object and not pd.api.types.is_string_dtype(column):
        return column
    text = column.astype("string")
    risky = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
    return column.where(~risky, "'" + text) if risky.any() else column


def to_csv_bytes(table: pd.DataFrame) -> bytes:
    safe = table.apply(neutralise_column) if not table.empty else table
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


class CsvFormatter(Formatter):
    def format(self, result: ScanResult) -> dict[str, bytes]:
        files = {
            "findings.csv": to_csv_bytes(findings_table(result)),
            "subscriptions.csv": to_csv_bytes(subscriptions_table(result)),
        }
        if result.drift is not None:
            files["drift.csv"] = to_csv_bytes(drift_table(result))
        return files
