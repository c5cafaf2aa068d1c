"""Write report files atomically: a crash never leaves a half-written report over the previous one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from auditor.model import ScanResult
from auditor.report.interface import Format, formatter_for


def render(result: ScanResult, formats: Iterable[Format]) -> dict[str, bytes]:
    """Every file of the chosen formats, rendered in memory before anything is written."""
    files: dict[str, bytes] = {}
    for fmt in formats:
        files.update(formatter_for(fmt).format(result))
    return files


def write_atomically(directory: Path, files: dict[str, bytes]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        target = directory / name
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
