"""findings.csv and subscriptions.csv."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from auditor.model import ScanResult, TrendPoint
from auditor.report.interface import CHUNK_ROWS, Chunks, Formatter
from auditor.report.tables import drift_table, findings_table, subscriptions_table
from auditor.report.text import utf8

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection); nothing is lost."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_column(column: pd.Series) -> pd.Series:
    """`neutralise` for a whole text column: only the cells that need it are touched."""
    if len(column) == 0 or not (column.dtype == object or pd.api.types.is_string_dtype(column)):
        return column
    risky = column.str.startswith(FORMULA_PREFIXES, na=False).astype(bool)
    if not risky.any():
        return column
    column = column.copy()
    column[risky] = "'" + column[risky]
    return column


def csv_chunks(table: pd.DataFrame) -> Iterator[bytes]:
    if table.empty:
        yield utf8(table.to_csv(index=False, lineterminator="\r\n"))
        return
    for start in range(0, len(table), CHUNK_ROWS):
        part = table.iloc[start : start + CHUNK_ROWS].apply(neutralise_column)
        yield utf8(part.to_csv(index=False, header=start == 0, lineterminator="\r\n"))


def trend_csv(points: tuple[TrendPoint, ...]) -> bytes:
    """trend.csv: one row per run kept with --history, oldest first."""
    lines = ["started,open,unknown,resources,complete"]
    lines += [f"{p.started},{p.open},{p.unknown},{p.resources},{str(p.complete).lower()}" for p in points]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


class CsvFormatter(Formatter):
    def format(self, result: ScanResult) -> dict[str, Chunks]:
        files: dict[str, Chunks] = {
            "findings.csv": csv_chunks(findings_table(result)),
            "subscriptions.csv": csv_chunks(subscriptions_table(result)),
        }
        if result.drift is not None:
            files["drift.csv"] = csv_chunks(drift_table(result))
        if result.trend:
            files["trend.csv"] = [trend_csv(result.trend)]
        return files
