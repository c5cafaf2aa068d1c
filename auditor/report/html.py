"""report.html: one self-contained page (inline CSS, JS and SVG; no network) for filing and mailing.

At any size the page holds the aggregate views and at most TABLE_ROW_LIMIT findings (the first ones by
exposure), clearly labelled; every finding is in findings.csv and scan.json.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from auditor.classify.rules import ARTICLE_URL, RULES
from auditor.model import ScanResult, Verdict
from auditor.report.interface import Chunks, Formatter
from auditor.report.tables import (
    drift_table,
    findings_table,
    subscriptions_table,
    verdict_counts,
    verdicts_by_offer,
    verdicts_by_subscription,
)
from auditor.report.text import utf8

TABLE_ROW_LIMIT = 5_000
DRIFT_ROW_LIMIT = 5_000
VERDICT_ORDER = {v.value: i for i, v in enumerate(Verdict)}

_environment = Environment(
    loader=PackageLoader("auditor.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


class HtmlFormatter(Formatter):
    def format(self, result: ScanResult) -> dict[str, Chunks]:
        findings = findings_table(result)
        subscriptions = subscriptions_table(result)
        meta = result.metadata
        ordered = findings.assign(_order=findings["verdict"].map(VERDICT_ORDER)).sort_values(
            ["_order", "subscription_name", "resource_name"], kind="stable"
        )
        shown = ordered.head(TABLE_ROW_LIMIT).drop(columns="_order")
        drift = drift_table(result)
        totals = verdict_counts(findings)
        page = _environment.get_template("report.html.j2").render(
            meta=meta,
            complete=result.complete,
            tenants=sorted({s.subscription.tenant_id for s in result.subscriptions if s.subscription.tenant_id}),
            unreadable=[s for s in result.subscriptions if s.errors],
            verdicts=[v.value for v in Verdict],
            totals=totals,
            chart_max=max(totals.values(), default=0) or 1,
            by_subscription=verdicts_by_subscription(subscriptions).to_dict(orient="records"),
            by_offer=verdicts_by_offer(findings).to_dict(orient="records"),
            rows=shown.to_dict(orient="records"),
            total_rows=len(findings),
            row_limit=TABLE_ROW_LIMIT,
            subscription_names=sorted(set(shown["subscription_name"])),
            resource_types=sorted(set(shown["resource_type"])),
            drift=result.drift,
            drift_rows=drift.head(DRIFT_ROW_LIMIT).to_dict(orient="records"),
            drift_total=len(drift),
            rules=RULES[meta.ruleset],
            article_url=ARTICLE_URL,
        )
        return {"report.html": [utf8(page)]}
