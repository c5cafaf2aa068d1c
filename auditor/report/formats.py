"""The formatter of each report format: every member of `Format` has one (a test loops over them)."""

from __future__ import annotations

from auditor.report.csv import CsvFormatter
from auditor.report.html import HtmlFormatter
from auditor.report.interface import Format, Formatter
from auditor.report.json import JsonFormatter
from auditor.report.ocsf import OcsfFormatter
from auditor.report.xlsx import XlsxFormatter

FORMATTERS: dict[Format, type[Formatter]] = {
    Format.CSV: CsvFormatter,
    Format.JSON: JsonFormatter,
    Format.HTML: HtmlFormatter,
    Format.XLSX: XlsxFormatter,
    Format.OCSF: OcsfFormatter,
}


def formatter_for(fmt: Format) -> Formatter:
    return FORMATTERS[fmt]()


def report_names() -> frozenset[str]:
    """Every file name a scan may write, in any format."""
    return frozenset(name for formatter in FORMATTERS.values() for name in formatter.FILE_NAMES)
