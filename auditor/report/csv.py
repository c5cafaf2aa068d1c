"""findings.csv and subscriptions.csv."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from auditor.model import ScanResult, TrendPoint
from auditor.report.interface import CHUNK_ROWS, Chunks, Formatter
from auditor.report.tables import OWN_FINDING_COLUMNS, drift_table, findings_table, subscriptions_table
from auditor.report.text import utf8

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection); nothing is lost."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


_FIRST_CHARACTERS = frozenset(FORMULA_PREFIXES)  # each prefix is one character


def neutralise_column(column: pd.Series) -> pd.Series:
    """`neutralise` for a whole text column: only the cells that need it are touched."""
    if len(column) == 0 or not (column.dtype == object or pd.api.types.is_string_dtype(column)):
        return column
    # a plain loop over the values: pandas' .str.startswith costs three times as much on object columns
    risky = np.fromiter(
        (isinstance(v, str) and v[:1] in _FIRST_CHARACTERS for v in column.to_numpy()), bool, len(column)
    )
    if not risky.any():
        return column
    column = column.copy()
    column[risky] = "'" + column[risky]
    return column


def csv_chunks(table: pd.DataFrame, own_columns: Collection[str] = ()) -> Iterator[bytes]:
    """The table as CSV, a slice at a time; `own_columns` hold only port25-audit's own words (verdicts, rule
    ids), which never start like a formula, so they are not checked."""
    checked = [c for c in table.columns if c not in own_columns]
    yield utf8(_csv_text([list(table.columns)]))
    for start in range(0, len(table), CHUNK_ROWS):
        part = table.iloc[start : start + CHUNK_ROWS]
        columns = [neutralise_column(part[c]) if c in checked else part[c] for c in table.columns]
        # Python's csv writer, which writes what pandas' to_csv would (minimal quoting, None empty), faster
        yield utf8(_csv_text(zip(*(column.to_numpy() for column in columns), strict=True)))


def _csv_text(rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def trend_csv(points: tuple[TrendPoint, ...]) -> bytes:
    """trend.csv: one row per run kept with --history, oldest first."""
    # the same writer as the other reports: a start time read back from a kept scan.json is not trusted either
    rows = [(neutralise(p.started), p.open, p.unknown, p.resources, str(p.complete).lower()) for p in points]
    return utf8(_csv_text([("started", "open", "unknown", "resources", "complete"), *rows]))


class CsvFormatter(Formatter):
    def format(self, result: ScanResult) -> dict[str, Chunks]:
        files: dict[str, Chunks] = {
            "findings.csv": csv_chunks(findings_table(result), OWN_FINDING_COLUMNS),
            "subscriptions.csv": csv_chunks(subscriptions_table(result)),
        }
        if result.drift is not None:
            files["drift.csv"] = csv_chunks(drift_table(result))
        if result.trend:
            files["trend.csv"] = [trend_csv(result.trend)]
        return files
