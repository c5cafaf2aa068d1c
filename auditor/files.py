"""Reading the files a user hands us (recording, config, baseline): one-line errors that say which file and why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class InputFileError(Exception):
    """A file we were given cannot be used. `unreadable`: missing or not readable at all (exit 66), rather than
    read but wrong inside."""

    def __init__(self, message: str, *, unreadable: bool = False) -> None:
        super().__init__(message)
        self.unreadable = unreadable


def read_text(path: Path, error: type[InputFileError]) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise error(f"{path}: no such file", unreadable=True) from err
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{path}: cannot be read ({err})", unreadable=True) from err


def read_json(path: Path, error: type[InputFileError]) -> Any:
    text = read_text(path, error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise error(f"{path}: not JSON (line {err.lineno}, column {err.colno}: {err.msg})") from err
