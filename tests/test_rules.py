"""The rule table against the article: one case per sentence, written from the article (tests/rules/cases.yaml)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.classify.rules import ALL_RULES, RULES, AppPath, Facts, deciding_rule
from auditor.model import Offer, PlatformPolicy, ResourceCategory, Ruleset

CASES_FILE = Path(__file__).with_name("rules") / "cases.yaml"
CASES: dict[str, list[dict[str, Any]]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
SEED_FILES = {"000": "000_643e130fa403990c.txt", "002": "002_ffedd479c7c75c57.txt", "003": "003_30d7b769d5f0e677.txt"}


def _cases() -> list[Any]:
    return [
        pytest.param(Ruleset(ruleset), case, id=f"{ruleset}: {case['name']}")
        for ruleset, cases in CASES.items()
        for case in cases
    ]


def _facts(raw: dict[str, Any]) -> Facts:
    def date(key: str) -> dt.date | None:
        value = raw.get(key)
        return value if isinstance(value, dt.date) or value is None else dt.date.fromisoformat(value)

    return Facts(
        category=ResourceCategory(raw["category"]),
        offer=Offer(raw["offer"]) if raw.get("offer") else None,
        created=date("created"),
        exemption_granted=date("exemption_granted"),
        app_path=AppPath(raw["app_path"]) if raw.get("app_path") else None,
    )


@pytest.mark.parametrize(("ruleset", "case"), _cases())
def test_rule_follows_the_article_sentence(ruleset: Ruleset, case: dict[str, Any], seeds: Path) -> None:
    cites = case["cites"]
    article = (seeds / SEED_FILES[cites["seed"]]).read_text(encoding="utf-8")
    assert cites["sentence"] in article, f"the cited sentence is not in seed {cites['seed']}"
    if not cites["section"].startswith("("):
        assert cites["section"] in article, f"the cited section is not in seed {cites['seed']}"

    rule = deciding_rule(ruleset, _facts(case["facts"]))

    assert (rule.id, rule.policy) == (case["expect"]["rule"], PlatformPolicy(case["expect"]["policy"]))


def test_every_rule_has_a_case() -> None:
    covered = {case["expect"]["rule"] for cases in CASES.values() for case in cases}
    assert {rule.id for rule in ALL_RULES} - covered == set()


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_rule_quotes_its_seed_verbatim(rule: Any, seeds: Path) -> None:
    article = (seeds / rule.edition.file).read_text(encoding="utf-8")
    assert rule.quote in article
    assert rule.section.startswith("(") or rule.section in article
    assert rule.remediation and rule.summary


def test_rule_ids_are_unique_and_editions_match() -> None:
    assert len({r.id for r in ALL_RULES}) == len(ALL_RULES)
    for ruleset, rules in RULES.items():
        assert all(r.ruleset is ruleset for r in rules)
        assert all(r.id.startswith("CUR-" if ruleset is Ruleset.CURRENT else "2020-") for r in rules)


@pytest.mark.parametrize("ruleset", list(Ruleset))
@pytest.mark.parametrize("category", list(ResourceCategory))
def test_every_offer_and_resource_is_decided(ruleset: Ruleset, category: ResourceCategory) -> None:
    """No combination falls through the table, with or without a creation date, and the rule that decides speaks
    of the resource's category."""
    for offer in [*Offer, None]:
        for created in (None, dt.date(2016, 1, 1), dt.date(2020, 1, 1)):
            for app_path in list(AppPath) if category is ResourceCategory.APP_SERVICE else [None]:
                rule = deciding_rule(ruleset, Facts(category, offer, created, None, app_path))
                assert category in rule.categories


@pytest.mark.parametrize("ruleset", list(Ruleset))
@pytest.mark.parametrize("category", list(ResourceCategory))
def test_each_edition_says_something_of_every_category(ruleset: Ruleset, category: ResourceCategory) -> None:
    """A new category needs a rule of its own in each edition: none may fall to a rule written for others."""
    assert [r.id for r in RULES[ruleset] if category in r.categories]


def test_other_paas_is_not_decided_by_the_subscription_type() -> None:
    """Before categories, CUR-EA-MCAE matched any resource of an EA subscription."""
    for category in (ResourceCategory.CONTAINER_APP, ResourceCategory.CONTAINER_INSTANCE):
        for offer in (Offer.ENTERPRISE_AGREEMENT, Offer.MCA_ENTERPRISE, None):
            assert deciding_rule(Ruleset.CURRENT, Facts(category, offer)).id == "CUR-PAAS"


def test_remediation_says_how_to_get_the_exemption() -> None:
    by_id = {r.id: r for r in ALL_RULES}
    assert "Diagnose and solve problems" in by_id["CUR-DEVTEST"].remediation
    assert "Cannot send email (SMTP-Port 25)" in by_id["CUR-DEVTEST"].remediation
    assert "support case" in by_id["2020-MPN-SPONSORSHIP"].remediation
    assert "587" in by_id["CUR-OTHER"].remediation
    assert "Azure Communication Services" in by_id["CUR-OTHER"].remediation


# docs/CONTRIBUTING.md, "Add or change a rule" and "Add an article edition": each check fails naming the step.
RULE_RECIPE = "docs/CONTRIBUTING.md, 'Add or change a rule'"
EDITION_RECIPE = "docs/CONTRIBUTING.md, 'Add an article edition'"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_each_rule_follows_the_recipe(rule: Any) -> None:
    from auditor.report.rules_doc import rules_markdown

    assert rule.quote in rule.edition.quotes_in_english, (
        f"{RULE_RECIPE}: {rule.id}'s sentence has no English rendering in its edition's quotes_in_english"
    )
    assert rule.categories, f"{RULE_RECIPE}: {rule.id} speaks of no category"
    covered = {case["expect"]["rule"] for cases in CASES.values() for case in cases}
    assert rule.id in covered, f"{RULE_RECIPE}: {rule.id} has no case in tests/rules/cases.yaml citing its sentence"
    assert f"`{rule.id}`" in rules_markdown(), f"{RULE_RECIPE}: run python -m scripts.update_docs ({rule.id})"


@pytest.mark.parametrize("ruleset", list(Ruleset))
def test_each_edition_follows_the_recipe(ruleset: Ruleset) -> None:
    from auditor.classify.rules import EDITIONS

    assert ruleset in EDITIONS, f"{EDITION_RECIPE}, step 3: {ruleset} has no Edition in EDITIONS"
    assert RULES.get(ruleset), f"{EDITION_RECIPE}, steps 2-3: {ruleset} has no RULES (its module, __init__'s RULES)"
    assert EDITIONS[ruleset].ruleset is ruleset, f"{EDITION_RECIPE}, step 2: its Edition names another ruleset"
    for category in ResourceCategory:
        assert any(category in r.categories for r in RULES[ruleset]), (
            f"{EDITION_RECIPE}, step 2: no rule of {ruleset} speaks of {category}"
        )


def test_rules_cite_the_english_article_of_2025_07_28_and_the_exemption_says_what_it_needs() -> None:
    """Issue 27.9: the citations rested on an undated Czech copy. The current article is Microsoft's English text
    dated 2025-07-28: cited by title, date and link, with the English sentence; the Czech wording stays as the
    evidence. Two of its sentences change what an exemption needs: the exempted VMs "must be stopped, deallocated,
    and then restarted", and "if the virtual network owned by the exempted subscription has a delegated subnet (to
    an App Service Environment for example), you must add and remove a new temporary subnet"."""
    from auditor.classify.rules import RULES
    from auditor.model import Ruleset

    for rule in RULES[Ruleset.CURRENT]:
        assert rule.citation.startswith(
            "Microsoft Learn, \u201cTroubleshoot outbound SMTP connectivity issues in Azure\u201d, 2025-07-28, section "
        ), rule.citation
        assert "https://learn.microsoft.com/troubleshoot/azure/virtual-network/" in rule.citation
        assert "Czech edition" in rule.citation and rule.quote_english and rule.quote
    (exempted,) = [rule for rule in RULES[Ruleset.CURRENT] if rule.id == "CUR-EXEMPTED"]
    assert "must be stopped, deallocated, and then restarted" in exempted.quote_english
    assert "delegated subnet" in exempted.quote_english and "temporary subnet" in exempted.quote_english
    assert "stopped, deallocated and then restarted" in exempted.remediation
    assert "delegated subnet" in exempted.remediation and "temporary subnet" in exempted.remediation
