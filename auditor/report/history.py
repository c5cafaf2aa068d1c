"""--history DIR: each run's scan.json kept in DIR, and the trend of open and unknown resources over the runs kept.

A run's copy is named by its start time (`scan-20261202T080000Z.json`); only files of that name are read back. A
file that cannot be read as a port25-audit scan.json is passed over, and said.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from auditor.model import ScanResult, TrendPoint, Verdict
from auditor.report.interface import Chunks
from auditor.report.write import write_atomically

log = logging.getLogger(__name__)
KEPT = re.compile(r"^scan-\d{8}T\d{6}Z\.json$")
SHARED_TABLES = frozenset({"hops", "explanations"})


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
    """A kept run's trend point, read as a stream: a scan.json of a million findings is over a gigabyte, and only
    its head and each finding's verdict are needed. A file whose head is not a port25-audit scan.json is passed
    over without reading the rest."""
    try:
        with path.open("rb") as stream:
            return _streamed_point(_JsonStream(stream))
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as err:
        log.warning("history: %s is not a port25-audit scan.json (%s); passed over", path, " ".join(str(err).split()))
        return None


def _streamed_point(reader: _JsonStream) -> TrendPoint:
    reader.expect("{")
    key = reader.value()
    if key != "schema_version":
        raise ValueError("it does not begin with schema_version")
    counts = dict.fromkeys(Verdict, 0)
    members: dict[str, Any] = {}
    while True:
        reader.expect(":")
        if key == "findings":
            for finding in reader.array_items():
                counts[Verdict(finding["verdict"])] += 1
        elif key in SHARED_TABLES:  # what findings share (schema_version 3): not needed, passed over item by item
            for _ in reader.array_items():
                pass
        else:
            members[key] = reader.value()
            if key == "tool" and members[key].get("name") != "port25-audit":
                raise ValueError("not written by port25-audit")
        if reader.next_of("}"):
            break
        key = reader.value()
    scan = members["scan"]
    opened, unknown, total = counts[Verdict.OPEN], counts[Verdict.UNKNOWN], sum(counts.values())
    return TrendPoint(str(scan["started"]), opened, unknown, total, bool(scan["complete"]))


_DECODER = json.JSONDecoder()
BLOCK = 1 << 20
# The largest single value (a finding, the scan's metadata, the subscriptions) a kept scan.json may hold.
VALUE_LIMIT = 256 << 20


class _JsonStream:
    """A JSON document read from a stream a value at a time (json's `raw_decode` over a moving window)."""

    def __init__(self, stream: BinaryIO, block: int = BLOCK) -> None:
        self._stream = stream
        self._block = block
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._text = ""
        self._pos = 0
        self._ended = False

    def _more(self, size: int = 0) -> bool:
        if self._ended:
            return False
        data = self._stream.read(max(size, self._block))
        self._text = self._text[self._pos :] + self._decoder.decode(data, final=not data)
        self._pos = 0
        self._ended = not data
        return bool(data)

    def _peek(self) -> str:
        while True:
            while self._pos < len(self._text) and self._text[self._pos] in " \t\r\n":
                self._pos += 1
            if self._pos < len(self._text) or not self._more():
                return self._text[self._pos : self._pos + 1]

    def expect(self, char: str) -> None:
        if self._peek() != char:
            raise ValueError(f"expected {char!r}")
        self._pos += 1

    def next_of(self, closing: str) -> bool:
        """After a member or item: True at the closing bracket (consumed), False at a comma (consumed)."""
        char = self._peek()
        if char in (",", closing):
            self._pos += 1
            return char == closing
        raise ValueError(f"expected ',' or {closing!r}")

    def value(self) -> Any:
        self._peek()
        while True:
            remaining = len(self._text) - self._pos
            try:
                value, end = _DECODER.raw_decode(self._text, self._pos)
            except json.JSONDecodeError as err:
                cut_short = err.pos >= len(self._text) - 8 or err.msg.startswith("Unterminated")
                if cut_short and remaining < VALUE_LIMIT and self._more(remaining):
                    continue
                raise ValueError(f"not JSON ({err.msg})") from err
            if end == len(self._text) and self._more():
                continue  # a number at the window's end may go on
            self._pos = end
            return value

    def array_items(self) -> Iterator[Any]:
        self.expect("[")
        if self._peek() == "]":
            self._pos += 1
            return
        while True:
            yield self.value()
            if self.next_of("]"):
                return


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
