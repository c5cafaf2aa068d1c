"""--history DIR: each run's scan.json kept in DIR, and the trend of open and unknown resources over the runs kept.

A run's copy is named by its start time (`scan-20261202T080000Z.json`); only files of that name are read back. A
file that cannot be read as a port25-audit scan.json is passed over, and said.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from auditor.files import InputFileError, read_json
from auditor.model import ScanResult, TrendPoint, Verdict
from auditor.report.interface import Chunks
from auditor.report.write import write_atomically

log = logging.getLogger(__name__)
KEPT = re.compile(r"^scan-\d{8}T\d{6}Z\.json$")


class HistoryError(InputFileError):
    """A kept scan that cannot be read."""


def point_of(result: ScanResult) -> TrendPoint:
    verdicts = [f.verdict for f in result.findings]
    return TrendPoint(
        result.metadata.started.isoformat(),
        verdicts.count(Verdict.OPEN),
        verdicts.count(Verdict.UNKNOWN),
        len(verdicts),
        result.complete,
    )


def _point(path: Path) -> TrendPoint | None:
    try:
        document = read_json(path, HistoryError)
        verdicts = [str(f["verdict"]) for f in document["findings"]]
        return TrendPoint(
            str(document["scan"]["started"]),
            verdicts.count(Verdict.OPEN.value),
            verdicts.count(Verdict.UNKNOWN.value),
            len(verdicts),
            bool(document["scan"]["complete"]),
        )
    except (InputFileError, KeyError, TypeError) as err:
        log.warning("history: %s is not a port25-audit scan.json (%s); passed over", path, err)
        return None


def trend(directory: Path, result: ScanResult) -> tuple[TrendPoint, ...]:
    """The kept runs and this one, oldest first (this run's own copy, if kept already, counts once)."""
    points = {
        p.started: p for p in map(_point, sorted(directory.glob("scan-*.json")) if directory.is_dir() else ()) if p
    }
    current = point_of(result)
    points[current.started] = current
    return tuple(sorted(points.values(), key=lambda p: p.started))


def copied(path: Path, block: int = 1 << 20) -> Iterator[bytes]:
    """A written report's bytes, a block at a time (a scan.json of a million resources is over a gigabyte)."""
    with path.open("rb") as stream:
        while chunk := stream.read(block):
            yield chunk


def keep(directory: Path, result: ScanResult, scan_json: Chunks) -> Path:
    """This run's scan.json, kept in the history folder under its start time."""
    name = "scan-" + result.metadata.started.strftime("%Y%m%dT%H%M%SZ") + ".json"
    (written,) = write_atomically(directory, {name: scan_json})
    return written
