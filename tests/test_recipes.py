"""Issue 7: the schedule recipes in docs/ parse, and every port25-audit command in them is one the CLI accepts."""

from __future__ import annotations

import io
import re
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


# What a user sets as the recipes' variables, for checking their command lines: `${{ vars.X }}` (GitHub) and
# `$(x)` (Azure DevOps) become these.
EXAMPLE_VALUES = {
    "AZURE_MANAGEMENT_GROUP": "mg-landingzones", "managementGroup": "mg-landingzones",
    "STORAGE_ACCOUNT": "contosoaudits", "storageAccount": "contosoaudits",
    "STORAGE_CONTAINER": "compliance", "storageContainer": "compliance",
    "PORT25_AUDIT_REPOSITORY": "contoso/port25-audit", "PORT25_AUDIT_REF": "v0.1.0",
    "port25AuditSource": "git+https://github.com/contoso/port25-audit@v0.1.0",
}  # fmt: skip


def _commands(script: str) -> list[list[str]]:
    joined = re.sub(r"\$\{\{\s*vars\.(\w+)\s*\}\}|\$\((\w+)\)", lambda m: EXAMPLE_VALUES[m[1] or m[2]], script)
    joined = joined.replace("\\\n", " ")
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
        assert args.management_group == ["mg-landingzones"]
        assert args.upload.container_url == "https://contosoaudits.blob.core.windows.net/compliance"
        assert args.upload.prefix == "port25"
    assert [_accepted(c[1:]).baseline is not None for c in commands] == [True, False]
    # the baseline is the container's latest scan.json, the one the previous run uploaded
    download = next(line for script in _scripts(document) for line in script.splitlines() if "blob download" in line)
    assert "--auth-mode login" in download and "port25/latest/scan.json" in " ".join(_scripts(document))


def test_github_recipe_runs_weekly_with_oidc_and_keeps_the_baseline() -> None:
    workflow = yaml.safe_load((DOCS / "github-actions.yml").read_text(encoding="utf-8"))
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"].split()[4] == "1"  # one day a week
    assert workflow["permissions"]["id-token"] == "write"
    steps = workflow["jobs"]["audit"]["steps"]
    uses = {step.get("uses", "").split("@")[0]: step for step in steps}
    assert "client-secret" not in uses["azure/login"]["with"]
    assert "actions/download-artifact" not in uses  # the baseline comes from the container now
    assert uses["actions/upload-artifact"]["if"] == "always()"
    assert "previous/scan.json" in " ".join(_scripts(workflow))


def test_azure_devops_recipe_runs_weekly_and_keeps_the_baseline() -> None:
    pipeline = yaml.safe_load((DOCS / "azure-pipelines.yml").read_text(encoding="utf-8"))
    assert pipeline["schedules"][0]["cron"].split()[4] == "1" and pipeline["schedules"][0]["always"] is True
    tasks = {step.get("task", "").split("@")[0]: step for step in pipeline["steps"]}
    assert "DownloadPipelineArtifact" not in tasks  # the baseline comes from the container now
    assert tasks["PublishPipelineArtifact"]["condition"] == "always()"
    assert tasks["AzureCLI"]["inputs"]["scriptType"] == "bash"


def test_the_schedule_page_names_every_recipe() -> None:
    text = (DOCS / "schedule.md").read_text(encoding="utf-8")
    for recipe in sorted(p.name for p in DOCS.glob("*.yml")):
        assert f"]({recipe})" in text


def _installs(document: Any) -> list[list[str]]:
    """Every pip install in a recipe, its variables set as a user would set them."""
    return [
        shlex.split(line.strip())
        for script in _scripts(document)
        for line in re.sub(
            r"\$\{\{\s*vars\.(\w+)\s*\}\}|\$\((\w+)\)", lambda m: EXAMPLE_VALUES[m[1] or m[2]], script
        ).splitlines()
        if "pip install" in line
    ]


@pytest.mark.parametrize("recipe", ["github-actions.yml", "azure-pipelines.yml"])
def test_a_recipe_installs_the_tool_from_its_pinned_source_not_an_unpublished_name(recipe: str) -> None:
    """Issue 27.8: `pip install port25-audit` installs nothing (the name is not published) or, worse, whatever
    someone else publishes under it. The recipes install from the repository, pinned."""
    document = yaml.safe_load((DOCS / recipe).read_text(encoding="utf-8"))
    (install,) = _installs(document)
    source = install[install.index("install") + 1]

    assert source != "port25-audit"
    if recipe == "github-actions.yml":
        steps = document["jobs"]["audit"]["steps"]
        checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
        assert checkout["with"]["repository"] and checkout["with"]["ref"]  # pinned, by the user's variables
        assert source == f"./{checkout['with']['path']}"
        assert steps.index(checkout) < next(i for i, s in enumerate(steps) if "pip install" in s.get("run", ""))
    else:
        assert source.startswith("git+https://") and "@" in source.rsplit("/", 1)[-1]  # a pinned git URL
