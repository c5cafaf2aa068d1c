"""The rule and offer tables: as text for the terminal (`port25-audit rules`), and as Markdown for docs/rules.md
and docs/offers.md (`port25-audit rules --markdown`)."""

from __future__ import annotations

import textwrap

from auditor.classify.rules import ARTICLE_URL, EDITIONS, RULES
from auditor.model import DEFAULT_RULESET, Offer, PlatformPolicy, ResourceCategory
from auditor.offers import OFFER_DESCRIPTIONS, QUOTA_IDS
from auditor.report.labels import LABELS

TEXT_WIDTH = 100


def rules_text(width: int = TEXT_WIDTH) -> str:
    """Every rule, a block each, wrapped for a terminal: its id and what Azure does, what it speaks of, when it
    applies, what it says, the sentence it cites and where, and what to do."""

    def said(name: str, text: str) -> list[str]:
        return textwrap.wrap(
            text,
            width,
            initial_indent=f"  {name:<10}",
            subsequent_indent=" " * 12,
            break_long_words=False,
            break_on_hyphens=False,
        )

    introduction = (
        "Rules follow Microsoft's article \u201cTroubleshoot outbound SMTP connectivity issues in Azure\u201d; the "
        "first rule of the chosen edition that speaks of a resource and applies decides."
    )
    lines = [*textwrap.wrap(introduction, width), ARTICLE_URL]
    for ruleset, edition in EDITIONS.items():
        default = ", the default" if ruleset is DEFAULT_RULESET else ""
        lines += ["", f"{edition.name[:1].upper()}{edition.name[1:]} (--ruleset {ruleset.value}{default})"]
        lines += textwrap.wrap(
            f"Cites Microsoft's English text of {edition.english_dated}; the sentences are checked against the "
            f"{edition.language_name} edition ({edition.dated}).",
            width,
        )
        for rule in RULES[ruleset]:
            covered = ", ".join(LABELS[ResourceCategory][c] for c in ResourceCategory if c in rule.categories)
            lines += [
                "",
                f"{rule.id}: Azure's policy {LABELS[PlatformPolicy][rule.policy].lower()}",
                *said("for", covered),
                *said("when", rule.applies.says),
                *said("says", rule.summary),
                *said("article", f"\u201c{rule.quote_english}\u201d ({rule.section_cited})"),
                *said("do", rule.remediation),
            ]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_markdown() -> str:
    lines = [
        f"Rules follow Microsoft's article [Troubleshoot outbound SMTP connectivity issues in Azure]({ARTICLE_URL}); "
        "the first rule of the chosen edition that speaks of a resource and applies decides. Each cites the "
        "sentence it follows in English and, as evidence, in the language of the edition read.",
        "",
    ]
    for ruleset, edition in EDITIONS.items():
        default = ", the default" if ruleset is DEFAULT_RULESET else ""
        lines += [
            f"### {edition.name[:1].upper()}{edition.name[1:]} (`--ruleset {ruleset.value}`{default})",
            "",
            f"Cites Microsoft's English text of {edition.english_dated}; the sentences are checked against the "
            f"{edition.language_name} edition ({edition.dated}).",
            "",
            "| rule | resources | applies when | platform_policy | what it says | citation | the article says "
            "| in the original |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for rule in RULES[ruleset]:
            covered = ", ".join(c.value for c in ResourceCategory if c in rule.categories)
            lines.append(
                f"| `{rule.id}` | {covered} | {_cell(rule.applies.says)} | `{rule.policy.value}` | "
                f"{_cell(rule.summary)} | "
                f"{_cell(rule.citation)} | {_cell(rule.quote_english)} | "
                f"{rule.edition.language_name}: {_cell(rule.quote)} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def offers_markdown() -> str:
    lines = ["| offer (config `offer =`) | what it is | quotaIds that map to it |", "|---|---|---|"]
    for offer in Offer:
        quota_ids = ", ".join(f"`{e.quota_id}`" for e in QUOTA_IDS if e.offer is offer) or "(config only)"
        lines.append(f"| `{offer.value}` | {_cell(OFFER_DESCRIPTIONS[offer])} | {quota_ids} |")
    lines += ["", "| quotaId | offers behind it | source |", "|---|---|---|"]
    for entry in QUOTA_IDS:
        lines.append(f"| `{entry.quota_id}` | {_cell(entry.offers_behind_it)} | {_cell(entry.source)} |")
    return "\n".join(lines) + "\n"
