"""Issue 6: every malformed input gets one line naming the place, an exit code of 64 or more, no traceback,
and no report written (so none is half-written)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.status import ExitStatus
from tests.conftest import CONTOSO
from tests.recordings import run_cli

SUB = "fb15d58a-17a1-5744-8d7f-f32f9eae2e21"

CONFIGS = {
    "TOML syntax error": ('[subscriptions."x"\noffer = 1\n', "line 1"),
    "unknown top-level key": ('[subscription."{SUB}"]\noffer = "enterprise_agreement"\n', "subscription"),
    "unknown subscription key": ('[subscriptions."{SUB}"]\nofer = "enterprise_agreement"\n', "ofer"),
    "date in another format": ('[subscriptions."{SUB}"]\ncreated = "15.11.2017"\n', "created: '15.11.2017'"),
    "date as a number": ('[subscriptions."{SUB}"]\nexemption_granted = 2017\n', "exemption_granted: 2017"),
    "impossible date": ('[subscriptions."{SUB}"]\ncreated = 2020-02-30\n', "line 2"),
    "unknown offer": ('[subscriptions."{SUB}"]\noffer = "gold"\n', "unknown offer 'gold'"),
    "offer that is not text": ('[subscriptions."{SUB}"]\noffer = 7\n', "offer"),
    "subscription id that is not a GUID": ('[subscriptions."prod"]\noffer = "enterprise_agreement"\n', "prod"),
}


def _assert_refused(status: ExitStatus, stderr: str, place: str, reports: Path) -> None:
    assert status >= 64, stderr
    assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
    assert place in stderr, stderr
    assert not reports.exists() or not any(reports.iterdir())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_bad_config(tmp_path: Path, name: str) -> None:
    text, named = CONFIGS[name]
    config = tmp_path / "audit.toml"
    config.write_text(text.replace("{SUB}", SUB), encoding="utf-8")
    reports = tmp_path / "reports"
    status, _, stderr = run_cli("scan", "--replay", str(CONTOSO), "--config", str(config), "--out", str(reports))
    assert status is ExitStatus.USAGE
    _assert_refused(status, stderr, str(config), reports)
    assert named in stderr


@pytest.mark.parametrize(
    ("argv", "status", "named"),
    [
        (["--subscription", "prod"], ExitStatus.USAGE, "'prod' is not a subscription id"),
        (["--subscription", f"{SUB}x"], ExitStatus.USAGE, "is not a subscription id"),
        (["--max-workers", "0"], ExitStatus.USAGE, "--max-workers"),
        (["--format", "pdf"], ExitStatus.USAGE, "--format"),
        (["--fail-on", "scary"], ExitStatus.USAGE, "--fail-on"),
        (["--ruleset", "2017"], ExitStatus.USAGE, "--ruleset"),
        (["--source", "rest"], ExitStatus.USAGE, "--source"),
        (["--config", "missing.toml"], ExitStatus.NO_INPUT, "missing.toml"),
        (["--baseline", "missing.json"], ExitStatus.NO_INPUT, "missing.json"),
    ],
)
def test_bad_arguments(tmp_path: Path, argv: list[str], status: ExitStatus, named: str) -> None:
    reports = tmp_path / "reports"
    got, _, stderr = run_cli("scan", "--replay", str(CONTOSO), "--out", str(reports), *argv)
    assert got is status
    _assert_refused(got, stderr, named, reports)


@pytest.mark.parametrize("what", ["--config", "--baseline", "--replay"])
def test_an_input_that_cannot_be_read(tmp_path: Path, what: str) -> None:
    unreadable = tmp_path / "a-directory.toml"
    unreadable.mkdir()
    reports = tmp_path / "reports"
    argv = ["scan", "--replay", str(CONTOSO), "--out", str(reports), what, str(unreadable)]
    status, _, stderr = run_cli(*argv)
    assert status is ExitStatus.NO_INPUT
    _assert_refused(status, stderr, str(unreadable), reports)


def test_a_recording_that_is_not_one(tmp_path: Path) -> None:
    recording = tmp_path / "tenant.json"
    recording.write_text('{"entries": []}', encoding="utf-8")
    reports = tmp_path / "reports"
    status, _, stderr = run_cli("scan", "--replay", str(recording), "--out", str(reports))
    assert status is ExitStatus.DATA_ERROR  # read, but not a recording: 65, as a baseline that is not a scan.json
    _assert_refused(status, stderr, str(recording), reports)


def test_an_output_directory_that_cannot_be_written_leaves_the_previous_reports_whole(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    status, _, stderr = run_cli("scan", "--replay", str(CONTOSO), "--out", str(blocker / "reports"), "--quiet")
    assert status is ExitStatus.CANT_CREATE
    assert "Traceback" not in stderr and f"cannot write the reports to {blocker / 'reports'}" in stderr
    assert blocker.read_text(encoding="utf-8") == "not a directory"
