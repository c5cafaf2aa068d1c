"""The report formats and the one interface they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from enum import StrEnum

from auditor.model import ScanResult


class Format(StrEnum):
    CSV = "csv"
    JSON = "json"
    HTML = "html"
    XLSX = "xlsx"


Chunks = Iterable[bytes]
CHUNK_ROWS = 5_000  # rows turned into text at a time: a million-row report never sits in memory whole


class Formatter(ABC):
    @abstractmethod
    def format(self, result: ScanResult) -> dict[str, Chunks]:
        """The report's files, by file name, each as chunks of bytes made on demand. Pure: no I/O."""


def rendered(files: Mapping[str, Chunks]) -> dict[str, bytes]:
    """Every file whole (for tests and small reports)."""
    return {name: b"".join(chunks) for name, chunks in files.items()}
