"""Issue 7: the wheel carries its package data and runs from a plain install; every command's help has
examples; the CHANGELOG names this version."""

from __future__ import annotations

import email
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from auditor import __version__
from auditor.cli import Environment, main
from auditor.status import ExitStatus
from tests.conftest import CONTOSO, REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(target), str(REPO)],
        check=True,
        capture_output=True,
    )
    (built,) = target.glob("port25_audit-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_holds_the_package_data_and_the_command(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(info))
        entry_points = archive.read(info.replace("METADATA", "entry_points.txt")).decode("utf-8")
    assert {"auditor/report/templates/report.html.j2", "auditor/report/scan.schema.json", "auditor/py.typed"} <= names
    assert not any(n.startswith(("tests/", "fixtures/", "benchmarks/")) for n in names)
    assert metadata["Version"] == __version__ and metadata["Name"] == "port25-audit"
    assert "port25-audit = auditor.__main__:main_exit" in entry_points


@pytest.mark.slow
def test_an_installed_wheel_audits_the_recorded_tenant(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    environment = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import auditor; print(auditor.__file__)"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(site))  # the installed copy, not this checkout
    scan = subprocess.run(
        [sys.executable, "-m", "auditor", "scan", "--replay", str(CONTOSO), "--out", "reports", "--quiet"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert scan.returncode == ExitStatus.INCOMPLETE, scan.stderr  # the bundled tenant's two 403s
    assert {p.name for p in (tmp_path / "reports").iterdir()} == {
        "findings.csv",
        "subscriptions.csv",
        "report.html",
        "scan.json",
    }
    version = subprocess.run(
        [sys.executable, "-m", "auditor", "--version"], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert version.stdout.strip() == f"port25-audit {__version__}"


@pytest.mark.parametrize("command", ["", "scan", "record", "rules"])
def test_every_command_has_help_with_examples(command: str) -> None:
    out = io.StringIO()
    status = main([*filter(None, [command]), "--help"], Environment(stdout=out, stderr=io.StringIO()))
    assert status is ExitStatus.SUCCESS
    assert f"usage: port25-audit {command}".rstrip() in out.getvalue() and "examples:" in out.getvalue()


def test_the_changelog_names_this_version() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{__version__}]" in changelog


def test_version_and_help_answer_without_pandas_or_the_azure_sdk() -> None:
    """Issue 15.2: --version and --help answer quickly: neither imports pandas nor the Azure SDK."""
    import subprocess
    import sys

    probe = (
        "import io, sys\n"
        "from auditor.cli import Environment, main\n"
        "for argv in (['--version'], ['--help'], ['scan', '--help'], ['record', '--help']):\n"
        "    main(argv, Environment(stdout=io.StringIO(), stderr=io.StringIO()))\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'azure', 'openpyxl', 'jinja2'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_no_arguments_print_the_usage() -> None:
    from tests.recordings import run_cli

    status, stdout, stderr = run_cli()
    assert status == 0 and stdout.startswith("usage: port25-audit") and "{scan,record,rules}" in stdout
    assert stderr == ""
