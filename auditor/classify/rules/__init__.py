"""The rule table: what Azure does to outbound TCP 25, per Microsoft's article, one module per edition of it.

Each rule carries the edition, section and sentence of the article it follows (in the edition's language, with an
English rendering), the resource categories it speaks of, the platform policy it gives, the remediation the report
prints, and a `Condition` over `Facts` that says in words when it applies. The first rule of the ruleset that
speaks of the resource's category and applies decides. `port25-audit rules` and docs/rules.md are generated from
these tables.
"""

from __future__ import annotations

from auditor.classify.rules import current, edition_2020
from auditor.classify.rules.rule import (
    ARTICLE,
    ARTICLE_URL,
    RELAY,
    RELAY_IF_MAIL_MUST_FLOW,
    VM_LIKE,
    AppPath,
    Edition,
    Facts,
    Rule,
)
from auditor.model import Ruleset

# Each edition: the text it is cited by, and its rules in the order they are tried.
EDITIONS: dict[Ruleset, Edition] = {Ruleset.CURRENT: current.EDITION, Ruleset.EDITION_2020: edition_2020.EDITION}
RULES: dict[Ruleset, tuple[Rule, ...]] = {Ruleset.CURRENT: current.RULES, Ruleset.EDITION_2020: edition_2020.RULES}
ALL_RULES: tuple[Rule, ...] = tuple(rule for rules in RULES.values() for rule in rules)


def deciding_rule(ruleset: Ruleset, facts: Facts) -> Rule:
    """The first rule of the ruleset that speaks of the resource's category and applies (each ruleset has, for
    every category, a last one that always does)."""
    for rule in RULES[ruleset]:
        if facts.category in rule.categories and rule.applies(facts):
            return rule
    raise LookupError(f"no {ruleset.value} rule decides {facts}")


__all__ = ["ALL_RULES", "ARTICLE", "ARTICLE_URL", "EDITIONS", "RELAY", "RELAY_IF_MAIL_MUST_FLOW", "RULES", "VM_LIKE",
           "AppPath", "Facts", "Rule", "deciding_rule"]  # fmt: skip
