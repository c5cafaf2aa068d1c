"""findings.csv and subscriptions.csv."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Iterator, Sequence

import pandas as pd

from auditor.model import Finding, ScanResult, TrendPoint
from auditor.report.interface import CHUNK_ROWS, Chunks, Formatter
from auditor.report.tables import (
    FINDING_COLUMNS,
    OWN_FINDING_COLUMNS,
    drift_table,
    encoded_rows,
    finding_column,
    subscriptions_table,
    table_slices,
)
from auditor.report.text import encoded_once, utf8

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP CSV injection); nothing is lost."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_chunks(
    parts: Iterable[pd.DataFrame], columns: Sequence[str], own_columns: Collection[str] = ()
) -> Iterator[bytes]:
    """A table's header, then its rows a slice at a time; `own_columns` hold only port25-audit's own words
    (verdicts, rule ids), which never start like a formula, so they are not checked."""
    yield utf8(_csv_text([list(columns)]))
    for part in parts:
        cells = [_cells(part[c].tolist(), checked=c not in own_columns) for c in columns]
        yield _lines(cells)


def finding_chunks(findings: Sequence[Finding]) -> Iterator[bytes]:
    """findings.csv, CHUNK_ROWS rows at a time: the bytes `table_chunks` writes of `findings_table` (a test compares
    them), made without the table: the columns a finding reads from a part it shares (its subscription's label,
    its assessment: thirteen of them) are encoded once a part object (`encoded_rows`)."""
    yield utf8(_csv_text([FINDING_COLUMNS]))
    for start in range(0, len(findings), CHUNK_ROWS):
        cells = encoded_rows(findings[start : start + CHUNK_ROWS], FINDING_COLUMNS, _finding_cells)
        yield _lines(cells)


def _finding_cells(findings: Sequence[Finding], name: str) -> list[bytes]:
    return _cells(finding_column(findings, name), checked=name not in OWN_FINDING_COLUMNS)


def _lines(cells: list[list[bytes]]) -> bytes:
    """Rows of fields given a column at a time, as CSV lines."""
    return b"\r\n".join(map(b",".join, zip(*cells, strict=True))) + b"\r\n"


def table_chunks(table: pd.DataFrame, own_columns: Collection[str] = ()) -> Iterator[bytes]:
    """A whole table as CSV (`csv_chunks` of its slices)."""
    return csv_chunks(table_slices(table), list(table.columns), own_columns)


_DIALECT = csv.writer(io.StringIO(), lineterminator="\r\n").dialect
# What QUOTE_MINIMAL quotes a field for (the csv docs: "the delimiter, quotechar or any of the characters in
# lineterminator"), read from the writer's own dialect: text without them the writer writes as it is.
_QUOTED_FOR = re.compile(
    "[" + re.escape(_DIALECT.delimiter + (_DIALECT.quotechar or "") + _DIALECT.lineterminator + "\r\n") + "]"
)


def _cells(values: list[object], *, checked: bool) -> list[bytes]:
    """Each value as its CSV field: each distinct value neutralised, quoted by Python's csv writer (what pandas'
    to_csv writes too: minimal quoting, None empty) and encoded once; the rows are joined from those bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect=_DIALECT)

    def field(value: object) -> bytes:
        if checked:
            value = neutralise(value)
        if isinstance(value, str) and not _QUOTED_FOR.search(value):
            return utf8(value)  # most ids and names: the writer would write them as they are
        buffer.seek(0)
        buffer.truncate()
        # a field among others, as it sits in a row (a row of one empty field alone would be quoted)
        writer.writerow((value, ""))
        return utf8(buffer.getvalue()[:-3])

    return encoded_once(values, field)


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
    FILE_NAMES = frozenset({"findings.csv", "subscriptions.csv", "drift.csv", "trend.csv"})

    def format(self, result: ScanResult) -> dict[str, Chunks]:
        files: dict[str, Chunks] = {
            "findings.csv": finding_chunks(result.findings),
            "subscriptions.csv": table_chunks(subscriptions_table(result)),
        }
        if result.drift is not None:
            files["drift.csv"] = table_chunks(drift_table(result))
        if result.trend:
            files["trend.csv"] = [trend_csv(result.trend)]
        return files
