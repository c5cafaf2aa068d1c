"""Reading the files a user hands us (recording, config, baseline): one-line errors that say which file and why."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

# The most a file may hold. A config is a few lines; a recording or a baseline (scan.json) of a million
# resources is about 1.3 GB. Past these, reading would only exhaust memory.
CONFIG_LIMIT = 1 << 20
DATA_LIMIT = 4 << 30


class InputFileError(Exception):
    """A file we were given cannot be used. `unreadable`: missing or not readable at all (exit 66), rather than
    read but wrong inside."""

    def __init__(self, message: str, *, unreadable: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable


def read_text(path: Path, error: type[InputFileError], limit: int = DATA_LIMIT) -> str:
    """The file's text. Only a regular file is read (a FIFO would wait forever, a device never end), and at most
    `limit` bytes of it."""
    not_regular = f"{path}: cannot be read: not a regular file (a pipe, a device or a directory); give a file"
    try:
        # opening a FIFO would wait for a writer: look before opening, and again at what was opened
        if not stat.S_ISREG(path.stat().st_mode):
            raise error(not_regular, unreadable=True)
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise error(not_regular, unreadable=True)
            data = stream.read(limit + 1)
    except FileNotFoundError as err:
        raise error(f"{path}: no such file", unreadable=True) from err
    except OSError as err:
        raise error(f"{path}: cannot be read ({err})", unreadable=True) from err
    if len(data) > limit:
        raise error(f"{path}: larger than the {limit >> 20} MiB port25-audit reads from such a file", unreadable=True)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(f"{path}: cannot be read ({err})", unreadable=True) from err


def read_json(path: Path, error: type[InputFileError]) -> Any:
    text = read_text(path, error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise error(f"{path}: not JSON (line {err.lineno}, column {err.colno}: {err.msg})") from err
    except RecursionError as err:
        raise error(f"{path}: nested too deeply to be read as JSON") from err
