"""report.html: one self-contained page (inline CSS and JS, no network) for filing and mailing."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from auditor.classify.rules import ARTICLE_URL, RULES
from auditor.model import ScanResult, Verdict
from auditor.report.interface import Formatter
from auditor.report.tables import findings_table, subscriptions_table, verdict_counts, verdicts_by_subscription

TABLE_ROW_LIMIT = 10_000

_environment = Environment(
    loader=PackageLoader("auditor.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


class HtmlFormatter(Formatter):
    def format(self, result: ScanResult) -> dict[str, bytes]:
        findings = findings_table(result)
        subscriptions = subscriptions_table(result)
        meta = result.metadata
        shown = findings.head(TABLE_ROW_LIMIT)
        page = _environment.get_template("report.html.j2").render(
            meta=meta,
            complete=result.complete,
            tenants=sorted({s.subscription.tenant_id for s in result.subscriptions if s.subscription.tenant_id}),
            unreadable=[s for s in result.subscriptions if s.errors],
            verdicts=[v.value for v in Verdict],
            totals=verdict_counts(findings),
            by_subscription=verdicts_by_subscription(subscriptions).to_dict(orient="records"),
            rows=shown.to_dict(orient="records"),
            total_rows=len(findings),
            row_limit=TABLE_ROW_LIMIT,
            rules=RULES[meta.ruleset],
            article_url=ARTICLE_URL,
        )
        return {"report.html": page.encode("utf-8")}
