"""The project's own promises: generated docs, bundled fixture, architecture."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from tests.conftest import CONTOSO, REPO


def test_generated_docs_are_what_the_tables_and_the_parser_say() -> None:
    """docs/rules.md, docs/offers.md and docs/options.md are generated; a change to a rule, an offer or an option
    without regenerating them fails here."""
    from scripts.update_docs import generated_docs

    for path, text in generated_docs().items():
        assert (REPO / path).read_text(encoding="utf-8") == text, f"{path} is stale: run python -m scripts.update_docs"


def test_every_option_and_rule_is_in_the_generated_docs() -> None:
    """The generator really covers the parser and the rule table (an empty table would match an empty file)."""
    from auditor.classify.rules import ALL_RULES
    from auditor.cli import Environment, build_parser

    options = (REPO / "docs" / "options.md").read_text(encoding="utf-8")
    rules = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    parser = build_parser(Environment())
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    for name, command in commands.choices.items():  # type: ignore[union-attr]
        assert f"## `port25-audit {name}`" in options
        for action in command._actions:
            if action.option_strings and action.help != "==SUPPRESS==" and action.dest != "help":
                assert f"`{action.option_strings[0]}" in options, action.option_strings
    for rule in ALL_RULES:
        assert f"| `{rule.id}` |" in rules and rule.applies.says in rules


def test_readme_is_a_readme_and_its_links_resolve() -> None:
    """Issue 15.3: about 10-15 KB, and every relative link points at a file of the repository."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert 9_000 <= len(readme.encode("utf-8")) <= 16_000
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which is not there"


def test_readme_keeps_its_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "port25-audit scan --replay fixtures/contoso.json --config fixtures/contoso.toml --out reports/" in readme
    assert "python -m pytest" in readme
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in ci


def test_readme_says_which_permission_each_feature_needs() -> None:
    """Issue 27.10: one table in the README: which role each feature needs, and the service principal's variables."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Permissions") :]
    table = table[: table.index("\n## ")]
    for needed in (
        "**Reader**",
        "**Management Group Reader**",
        "**Billing account reader**",
        "Enterprise Administrator (read-only)",
        "Microsoft.Network/networkInterfaces/effectiveRouteTable/action",
        "**Network Contributor**",
        "**Storage Blob Data Contributor**",
        "`--upload`",
        "`--effective-routes`",
        "`--management-group`",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_FEDERATED_TOKEN_FILE",
    ):
        assert needed in table, needed
    assert "| feature | what to grant | where |" in table


def test_the_docs_name_every_hop_kind_and_the_readme_says_what_skips() -> None:
    """Issue 27.11: docs/reports.md lacked the `step` hop kind; the README said "about a hundred tests skip"
    without saying which (those needing shared/, Chromium, Azurite)."""
    from auditor.classify.network.path import HopKind

    reports = (REPO / "docs" / "reports.md").read_text(encoding="utf-8")
    missing = [kind.value for kind in HopKind if f"`{kind.value}`" not in reports]
    assert missing == [], missing
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "about a hundred" not in readme
    assert all(word in readme for word in ("`shared/`", "Chromium", "Azurite", "pytest -rs"))


def test_bundled_recording_is_the_generator_output() -> None:
    from fixtures.make_contoso import build

    assert json.loads(CONTOSO.read_text(encoding="utf-8")) == build(), "run: python -m fixtures.make_contoso"


def test_bundled_recording_has_what_issue_2_asks_for() -> None:
    entries = json.loads(CONTOSO.read_text(encoding="utf-8"))["Entries"]
    next_links = [e for e in entries if isinstance(e["ResponseBody"], dict) and e["ResponseBody"].get("nextLink")]
    assert {"/subscriptions?" in e["RequestUri"] for e in next_links} == {True, False}  # subscriptions and VMs page
    assert [e["StatusCode"] for e in entries].count(403) == 2
    throttled = [e for e in entries if e["StatusCode"] == 429]
    assert [e["RequestMethod"] for e in throttled] == ["GET", "POST"]  # one ARM list, one Resource Graph page
    for answer in throttled:
        assert "Retry-After" in answer["ResponseHeaders"]
        assert any(
            (e["RequestUri"], e["RequestBody"], e["StatusCode"]) == (answer["RequestUri"], answer["RequestBody"], 200)
            for e in entries
        )
    types = {
        item["type"]
        for e in entries
        if isinstance(e["ResponseBody"], dict)
        for item in e["ResponseBody"].get("value", [])
        if "type" in item
    }
    assert types >= {
        "Microsoft.Compute/virtualMachines",
        "Microsoft.Compute/virtualMachineScaleSets",
        "Microsoft.Web/sites",
        "Microsoft.Web/hostingEnvironments",
        "Microsoft.Network/azureFirewalls",
    }


def _imports(path: object) -> set[str]:
    tree = ast.parse(Path(str(path)).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_layers_keep_to_their_side() -> None:
    """collect -> model -> classify -> report: reports never read Azure, collectors never judge or write reports."""
    package = REPO / "auditor"
    for path in package.rglob("*.py"):
        layer = path.relative_to(package).parts[0]
        imports = {name for name in _imports(path) if name.startswith("auditor.")}
        if layer == "report":
            assert not {n for n in imports if n.startswith("auditor.collect")}, f"{path} reads Azure"
        if layer == "collect":
            assert not {n for n in imports if n.startswith(("auditor.classify", "auditor.report", "auditor.cli"))}, path
            assert not {n for n in imports if n.startswith("auditor.deliver")}, f"{path}: reading never writes"
        if layer == "classify":
            assert not {n for n in imports if n.startswith(("auditor.report", "auditor.collect"))}, path


def test_dependencies_point_one_way() -> None:
    package = REPO / "auditor"
    for path in package.rglob("*.py"):
        module = path.relative_to(package).parts
        imports = _imports(path)
        if module[0] == "deliver":  # the one write (--upload): Blob Storage only, through azure-core
            assert all(n.startswith(("azure.core", "azure.storage.blob")) for n in imports if n.startswith("azure")), (
                path
            )
        elif module[0] != "collect" and path.name != "cli.py":
            assert not any(name == "azure" or name.startswith("azure.") for name in imports), f"{path} imports azure"
        if path.name in ("model.py", "offers.py", "config.py") or module[0] == "classify":
            assert not any(name.startswith(("auditor.report", "auditor.collect", "auditor.cli")) for name in imports), (
                path
            )


def _module_imports() -> dict[str, set[str]]:
    """Each auditor module and the auditor modules it imports, anywhere in it (inside functions too)."""
    package = REPO / "auditor"
    modules = {
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): path
        for path in package.rglob("*.py")
    }
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name in modules}
            elif isinstance(node, ast.ImportFrom) and node.module in modules:
                # `from auditor.collect import network` imports the module network, not the package
                found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                          for a in node.names}  # fmt: skip
        graph[module] = found - {module}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of the graph, as the modules along it; [] when there is none."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = "open"
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == "open":
                return [*path[path.index(imported) :], imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        state[module] = "done"
        path.pop()
        return []

    for module in sorted(graph):
        if module not in state and (cycle := visit(module)):
            return cycle
    return []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_import_cycles_not_even_inside_functions() -> None:
    """Issue 15.4: a cycle hidden by an import inside a function is still a cycle."""
    graph = _module_imports()
    assert "auditor.collect.arm" in graph and "auditor.collect.network" in graph["auditor.collect.children"]
    assert _cycle(graph) == []


def test_collectors_share_errors_not_each_other() -> None:
    """Issue 15.4: what both collectors need is in collect/errors, collect/session and collect/children; the ARM
    collector does not import the replay, Resource Graph mode does not import the ARM collector, and only the
    factory knows both."""
    graph = _module_imports()
    assert "auditor.collect.replay" not in graph["auditor.collect.arm"]
    assert "auditor.collect.arm" not in graph["auditor.collect.graph"]
    knows_both = {m for m, imported in graph.items() if {"auditor.collect.arm", "auditor.collect.graph"} <= imported}
    assert knows_both == {"auditor.collect.factory"}
