"""Write the reports as one set: every file of one scan, or the previous set untouched.

A scan writes its files into a staging folder inside `--out`, and only when all are written moves them over the
previous ones (a rename each, in the same folder) and removes the reports the previous scan wrote and this one
does not (an old drift.csv, findings.xlsx). A full disk or a crash while writing leaves the previous set whole;
what a killed scan left behind (a staging folder, a temporary file) is removed by the next. A lock on `--out`
keeps a second scan from writing there at the same time. Files get the modes the umask gives, as any command-line
tool's output does.
"""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from auditor.report.interface import Chunks

try:
    import fcntl
except ImportError:  # Windows: no flock; the set is still swapped in whole, but --out is not locked
    fcntl = None  # type: ignore[assignment]

STAGING_PREFIX = ".port25-audit-staging-"


class ReportsLocked(OSError):
    """Another port25-audit scan is writing to the same folder."""


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextmanager
def reports_lock(directory: Path) -> Iterator[None]:
    """Holds `--out` for this scan; a second scan that asks gets ReportsLocked at once. The lock goes with the
    process, so a killed scan never leaves it held."""
    directory.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    # the folder itself is locked: no lock file is left among the reports
    descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise ReportsLocked(
                err.errno, f"another port25-audit scan is writing its reports to {directory}; wait for it or use --out"
            ) from err
        yield
    finally:
        os.close(descriptor)


def _remove_leftovers(directory: Path) -> None:
    """What a scan that was killed while writing left: its staging folder, a temporary file."""
    for path in directory.iterdir():
        if path.name.startswith(STAGING_PREFIX) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file():
            path.unlink(missing_ok=True)


def _write_file(target: Path, content: Chunks, mode: int) -> None:
    """The file's chunks written, and the file flushed to disk, by a thread of its own while the next chunks are
    made: the system calls let go of the interpreter, making the chunks does not."""
    with open(target, "wb") as stream:
        writer = _ChunkWriter(stream)
        writer.start()
        try:
            for chunk in content:
                writer.put(chunk)
        except BaseException:
            writer.finish()  # what it was given is written; the error that stopped the chunks is the one raised
            raise
        writer.finish()
        writer.raise_failure()
    os.chmod(target, mode)


class _ChunkWriter(threading.Thread):
    """Writes the chunks it is given to a stream, then flushes it to disk; a failure (a full disk) is raised to
    the thread giving the chunks, at its next chunk or at the end."""

    QUEUED = 4  # chunks waiting at most: a few MB

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__(name="port25-audit report writer", daemon=True)
        self._stream = stream
        self._chunks: queue.Queue[bytes | None] = queue.Queue(self.QUEUED)
        self._failure: BaseException | None = None

    def run(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            if self._failure is None:  # after a failure, the chunks are taken and dropped: the giver never waits
                self._attempt(self._stream.write, chunk)
        if self._failure is None:
            self._attempt(self._flushed)

    def _flushed(self) -> None:
        self._stream.flush()
        os.fsync(self._stream.fileno())

    def _attempt(self, step: Callable[..., object], *args: object) -> None:
        try:
            step(*args)
        except BaseException as err:  # raised again in the thread giving the chunks
            self._failure = err

    def put(self, chunk: bytes) -> None:
        self.raise_failure()
        self._chunks.put(chunk)

    def finish(self) -> None:
        self._chunks.put(None)
        self.join()

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure


def write_reports(
    directory: Path, formats: Iterable[Mapping[str, Chunks]], every_name: frozenset[str] = frozenset()
) -> list[Path]:
    """Every format's files (made as they are asked for) written in a staging folder, one format's bytes held at a
    time; then swapped in as one set, and the reports of an earlier scan that this one does not write (of
    `every_name`, the names any format may write) removed."""
    directory.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(directory)
    mode = _file_mode()
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=directory))
    try:
        names: list[str] = []
        for files in formats:
            for name, content in files.items():
                _write_file(staging / name, content, mode)
                names.append(name)
        for name in names:
            os.replace(staging / name, directory / name)
        for stale in sorted(every_name - set(names)):
            (directory / stale).unlink(missing_ok=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [directory / name for name in names]


def write_atomically(directory: Path, files: Mapping[str, Chunks]) -> list[Path]:
    """Files written each to a temporary file and renamed over the target (a recording)."""
    directory.mkdir(parents=True, exist_ok=True)
    mode = _file_mode()
    written = []
    for name, content in files.items():
        target = directory / name
        handle, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
        os.close(handle)
        try:
            _write_file(Path(temporary), content, mode)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
