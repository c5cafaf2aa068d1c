"""The rule and offer tables as Markdown: printed by `port25-audit rules`, and the README's generated sections."""

from __future__ import annotations

from auditor.classify.rules import ARTICLE_URL, RULES
from auditor.model import Offer, ResourceCategory, Ruleset
from auditor.offers import OFFER_DESCRIPTIONS, QUOTA_IDS


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_markdown() -> str:
    lines = [
        f"Rules follow Microsoft's article [Troubleshoot outbound SMTP connectivity issues in Azure]({ARTICLE_URL}); "
        "the first rule of the chosen edition that speaks of a resource and matches it decides. Each cites the "
        "sentence it follows in English and, as evidence, in the language of the edition read.",
        "",
    ]
    for ruleset in Ruleset:
        title = (
            "Current edition (`--ruleset current`, the default)"
            if ruleset is Ruleset.CURRENT
            else "2020 edition (`--ruleset 2020`)"
        )
        lines += [
            f"### {title}",
            "",
            "| rule | resources | platform_policy | what it says | citation | the article says | in the original |",
            "|---|---|---|---|---|---|---|",
        ]
        for rule in RULES[ruleset]:
            covered = ", ".join(c.value for c in ResourceCategory if c in rule.categories)
            lines.append(
                f"| `{rule.id}` | {covered} | `{rule.policy.value}` | {_cell(rule.summary)} | "
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


def update_readme(readme: str) -> str:
    """The README with its generated sections (between `<!-- NAME:start -->` and `<!-- NAME:end -->`) rewritten."""
    for name, body in (("rules", rules_markdown()), ("offers", offers_markdown())):
        start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
        head, _, rest = readme.partition(start)
        _, _, tail = rest.partition(end)
        readme = f"{head}{start}{body}{end}{tail}"
    return readme


if __name__ == "__main__":
    import sys
    from pathlib import Path

    if sys.argv[1:] != ["--update-readme"]:
        sys.exit("usage: python -m auditor.report.rules_doc --update-readme")
    path = Path("README.md")
    path.write_text(update_readme(path.read_text(encoding="utf-8")), encoding="utf-8")
