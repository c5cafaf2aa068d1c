"""Exit codes, and what each means for each command: the one table the CLI's epilogs, the README and
docs/design.md §3 are generated from (`tests/test_project.py` keeps them equal). Only `auditor.__main__` turns
a status into a process exit.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from enum import IntEnum


class ExitStatus(IntEnum):
    SUCCESS = 0
    FINDINGS = 1
    INCOMPLETE = 2
    USAGE = 64
    NOTHING_AUDITED = 69  # sysexits' EX_UNAVAILABLE: sign-in failed, or no subscription could be read
    DATA_ERROR = 65
    NO_INPUT = 66
    SOFTWARE = 70
    CANT_CREATE = 73
    INTERRUPTED = 130  # 128 + SIGINT, as shells report it


@dataclass(frozen=True)
class ExitMeaning:
    """What a status means: in the docs' table (`said`), and in `scan --help` and `record --help` (`short`;
    None where that command never exits so)."""

    status: ExitStatus
    said: str
    scan: str | None
    record: str | None


EXIT_MEANINGS: tuple[ExitMeaning, ...] = (
    ExitMeaning(ExitStatus.SUCCESS, "the audit is complete", "complete", "everything answered"),
    ExitMeaning(
        ExitStatus.FINDINGS,
        "a `--fail-on` verdict was found, or a resource became `open` (or a new `open` one appeared) since "
        "`--baseline`",
        "a --fail-on verdict or new exposure since --baseline",
        None,
    ),
    ExitMeaning(
        ExitStatus.INCOMPLETE,
        "something could not be read; it is in the reports, marked (`subscriptions.csv`, column `collection`)",
        "something could not be read (marked in the reports)",
        "something could not be read (its answer is in the recording)",
    ),
    ExitMeaning(ExitStatus.USAGE, "bad arguments or config", "bad arguments or config", "bad arguments"),
    ExitMeaning(
        ExitStatus.NOTHING_AUDITED,
        "nothing could be audited: sign-in failed, or the subscription list could not be read or shows none; "
        "the reports in `--out` are left as they were",
        "nothing could be audited (sign-in failed, no subscription readable); --out is left as it was",
        "nothing could be read (sign-in failed, no subscription readable)",
    ),
    ExitMeaning(
        ExitStatus.DATA_ERROR,
        "an input file whose contents cannot be used (a baseline of another schema version, a recording that is "
        "not JSON or not a test-proxy recording)",
        "an input file whose contents cannot be used (not JSON, another schema_version, not a recording)",
        "a --replay file that is not a recording",
    ),
    ExitMeaning(
        ExitStatus.NO_INPUT,
        "an input file cannot be read (missing, not a regular file, or too large)",
        "an input file cannot be read",
        "a --replay file cannot be read",
    ),
    ExitMeaning(
        ExitStatus.SOFTWARE,
        "a bug in port25-audit (one line; `--debug` shows the traceback)",
        "a bug",
        "a bug",
    ),
    ExitMeaning(
        ExitStatus.CANT_CREATE,
        "the reports cannot be written, another scan is writing into the same `--out`, `--upload` failed (the local "
        "reports are kept), or `--history` cannot be kept",
        "the reports cannot be written, another scan is writing into --out, --upload failed (the local reports are "
        "kept), or --history cannot be kept",
        "the recording cannot be written",
    ),
    ExitMeaning(
        ExitStatus.INTERRUPTED,
        "interrupted (Ctrl-C): the lists being read finish, no other starts, and the audit stops",
        "interrupted (Ctrl-C)",
        "interrupted (Ctrl-C)",
    ),
)


def exit_codes_markdown() -> str:
    """The docs' table of exit codes."""
    rows = [f"| {m.status.value} | {m.said} |" for m in EXIT_MEANINGS]
    return "\n".join(["| code | meaning |", "|---|---|", *rows]) + "\n"


def exit_codes_epilog(command: str) -> str:
    """The exit codes a command's --help lists, wrapped for the terminal."""
    said = [f"{m.status.value} {short}" for m in EXIT_MEANINGS if (short := m.scan if command == "scan" else m.record)]
    return textwrap.fill("exit codes: " + "; ".join(said), width=110)
