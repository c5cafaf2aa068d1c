"""Write report files atomically: a crash never leaves a half-written report over the previous one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from auditor.model import ScanResult
from auditor.report.interface import Chunks, Format, formatter_for


def write_reports(directory: Path, result: ScanResult, formats: Iterable[Format]) -> list[Path]:
    """Each format rendered in memory, then its files written atomically; one format's bytes held at a time."""
    written: list[Path] = []
    for fmt in formats:
        written += write_atomically(directory, formatter_for(fmt).format(result))
    return written


def write_atomically(directory: Path, files: Mapping[str, Chunks]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        target = directory / name
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(handle, "wb") as stream:
                for chunk in content:
                    stream.write(chunk)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
