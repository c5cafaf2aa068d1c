"""The report formats and the one interface they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import ClassVar

from auditor.model import ScanResult


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"
    HTML = "html"
    XLSX = "xlsx"
    OCSF = "ocsf"  # findings.ocsf.json: OCSF Compliance Findings, for a SIEM


# What a scan writes when --format does not say (XLSX, slow at a million rows, is asked for).
DEFAULT_FORMATS = (Format.CSV, Format.HTML, Format.JSON)

Chunks = Iterable[bytes]
CHUNK_ROWS = 5_000  # rows turned into text at a time: a million-row report never sits in memory whole


class Formatter(ABC):
    # Every file name `format` may return: a scan removes those of an earlier scan that it did not write.
    FILE_NAMES: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def format(self, result: ScanResult) -> dict[str, Chunks]:
        """The report's files, by file name, each as chunks of bytes made on demand. Pure: no I/O (but a writer's
        own temporary file, removed once read)."""


def rendered(files: Mapping[str, Chunks]) -> dict[str, bytes]:
    """Every file whole (for tests and small reports)."""
    return {name: b"".join(chunks) for name, chunks in files.items()}
