"""Issue 7: the schedule recipes in docs/ parse, and every port25-audit command in them is one the CLI accepts."""

from __future__ import annotations

import io
import shlex
from typing import Any

import pytest
import yaml

from auditor.cli import Environment, build_parser
from tests.conftest import REPO

DOCS = REPO / "docs"


def _scripts(value: Any) -> list[str]:
    """Every shell script in a pipeline document: GitHub's `run`, Azure DevOps' `script` and `inlineScript`."""
    if isinstance(value, dict):
        own = [v for k, v in value.items() if k in ("run", "script", "inlineScript") and isinstance(v, str)]
        return own + [s for v in value.values() for s in _scripts(v)]
    if isinstance(value, list):
        return [s for v in value for s in _scripts(v)]
    return []


def _commands(script: str) -> list[list[str]]:
    joined = script.replace("\\\n", " ")
    return [shlex.split(line.strip()) for line in joined.splitlines() if line.strip().startswith("port25-audit ")]


def _accepted(argv: list[str]) -> Any:
    err = io.StringIO()
    parser = build_parser(Environment(stdout=io.StringIO(), stderr=err))
    try:
        return parser.parse_args(argv)
    except Exception as refused:  # the parser raises our own _Exit with a usage status
        raise AssertionError(f"port25-audit {' '.join(argv)}: {err.getvalue()}") from refused


@pytest.mark.parametrize("recipe", ["github-actions.yml", "azure-pipelines.yml"])
def test_every_command_in_a_recipe_is_accepted(recipe: str) -> None:
    document = yaml.safe_load((DOCS / recipe).read_text(encoding="utf-8"))
    commands = [command for script in _scripts(document) for command in _commands(script)]

    assert len(commands) == 2  # with and without last week's baseline
    for command in commands:
        args = _accepted(command[1:])
        assert args.command == "scan" and args.auth == "cli" and not args.fail_on
    assert [_accepted(c[1:]).baseline is not None for c in commands] == [True, False]


def test_github_recipe_runs_weekly_with_oidc_and_keeps_the_baseline() -> None:
    workflow = yaml.safe_load((DOCS / "github-actions.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"].split()[4] == "1"  # one day a week
    assert workflow["permissions"]["id-token"] == "write"
    steps = workflow["jobs"]["audit"]["steps"]
    uses = {step.get("uses", "").split("@")[0]: step for step in steps}
    assert "client-secret" not in uses["azure/login"]["with"]
    assert uses["actions/download-artifact"]["with"]["name"] == uses["actions/upload-artifact"]["with"]["name"]
    assert uses["actions/upload-artifact"]["if"] == "always()"
    assert "previous/scan.json" in " ".join(_scripts(workflow))


def test_azure_devops_recipe_runs_weekly_and_keeps_the_baseline() -> None:
    pipeline = yaml.safe_load((DOCS / "azure-pipelines.yml").read_text(encoding="utf-8"))
    assert pipeline["schedules"][0]["cron"].split()[4] == "1" and pipeline["schedules"][0]["always"] is True
    tasks = {step.get("task", "").split("@")[0]: step for step in pipeline["steps"]}
    assert (
        tasks["DownloadPipelineArtifact"]["inputs"]["artifact"]
        == tasks["PublishPipelineArtifact"]["inputs"]["artifact"]
    )
    assert tasks["PublishPipelineArtifact"]["condition"] == "always()"
    assert tasks["AzureCLI"]["inputs"]["scriptType"] == "bash"


def test_the_schedule_page_names_every_recipe() -> None:
    text = (DOCS / "schedule.md").read_text(encoding="utf-8")
    for recipe in sorted(p.name for p in DOCS.glob("*.yml")):
        assert f"]({recipe})" in text
