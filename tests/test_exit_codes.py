"""Issue 24.4: one exit-code table (`auditor.status.EXIT_MEANINGS`); the CLI's --help, the README and
docs/design.md are made from it, and the codes the CLI returns are the ones it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditor.status import EXIT_MEANINGS, ExitStatus, exit_codes_epilog, exit_codes_markdown
from tests.conftest import REPO
from tests.recordings import run_cli


def test_every_status_has_one_meaning() -> None:
    assert [m.status for m in EXIT_MEANINGS] == list(ExitStatus)


@pytest.mark.parametrize("command", ["scan", "record"])
def test_each_command_s_help_lists_the_table_s_codes(command: str) -> None:
    status, stdout, _ = run_cli(command, "--help")
    assert status is ExitStatus.SUCCESS
    assert " ".join(exit_codes_epilog(command).split()) in " ".join(stdout.split())
    listed = [int(code) for code in re.findall(r"(?:exit codes: |; )(\d+) ", " ".join(stdout.split()))]
    expected = [m.status.value for m in EXIT_MEANINGS if (m.scan if command == "scan" else m.record)]
    assert listed == expected


@pytest.mark.parametrize("path", ["README.md", "docs/design.md"])
def test_the_docs_tables_are_the_status_table(path: str) -> None:
    assert exit_codes_markdown() in (REPO / path).read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "status"),
    [
        ("{not json", ExitStatus.DATA_ERROR),
        ('{"no": "entries"}', ExitStatus.DATA_ERROR),
        (None, ExitStatus.NO_INPUT),
    ],
    ids=["not-json", "not-a-recording", "missing"],
)
def test_a_recording_that_is_not_one_exits_65_and_one_that_cannot_be_read_66(
    tmp_path: Path, content: str | None, status: ExitStatus
) -> None:
    """65 (EX_DATAERR): read, but its contents cannot be used; 66 (EX_NOINPUT): it cannot be read at all. As for
    --baseline."""
    recording = tmp_path / "recording.json"
    if content is not None:
        recording.write_text(content, encoding="utf-8")
    for command in ("scan", "record"):
        got, _, stderr = run_cli(command, "--replay", str(recording), "--out", str(tmp_path / "out.json"))
        assert got is status, (command, stderr)
        assert stderr.count("\n") == 1
