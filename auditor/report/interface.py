"""The report formats and the one interface they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum

from auditor.model import ScanResult


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"
    HTML = "html"
    XLSX = "xlsx"


class Formatter(ABC):
    @abstractmethod
    def format(self, result: ScanResult) -> dict[str, bytes]:
        """The report's files, by file name. Pure: no I/O."""


def formatter_for(fmt: Format) -> Formatter:
    from auditor.report.csv import CsvFormatter
    from auditor.report.html import HtmlFormatter
    from auditor.report.json import JsonFormatter
    from auditor.report.xlsx import XlsxFormatter

    formatters: dict[Format, type[Formatter]] = {
        Format.CSV: CsvFormatter,
        Format.JSON: JsonFormatter,
        Format.HTML: HtmlFormatter,
        Format.XLSX: XlsxFormatter,
    }
    return formatters[fmt]()
