"""report.html: one self-contained page (inline CSS, JS and SVG; no network) for filing and mailing.

At any size the page holds the aggregate views and at most TABLE_ROW_LIMIT findings (the first ones by
exposure), clearly labelled; every finding is in findings.csv and scan.json.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from auditor.classify.rules import ARTICLE_URL, EDITIONS, RULES
from auditor.model import PlatformPolicy, ScanResult, Verdict
from auditor.report.counts import open_counts
from auditor.report.interface import Chunks, Formatter
from auditor.report.labels import POLICY_LABELS, SEVERITY_LABELS, VERDICT_LABELS, by_severity
from auditor.report.tables import (
    OVERVIEW_COLUMNS,
    drift_table,
    exceptions_table,
    findings_table,
    subscriptions_table,
    verdict_counts,
    verdicts_by_offer,
    verdicts_by_subscription,
)
from auditor.report.text import utf8

TABLE_ROW_LIMIT = 5_000
DRIFT_ROW_LIMIT = 5_000

_environment = Environment(
    loader=PackageLoader("auditor.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def breakable(text: object) -> Markup:
    """The text escaped, with a line-break opportunity after each `/` and `_`: a long resource id or a value such
    as default_outbound wraps there, on screen and on paper, instead of mid-word."""
    return Markup(str(escape(str(text))).replace("/", "/<wbr>").replace("_", "_<wbr>"))


_environment.filters["breakable"] = breakable


@dataclass(frozen=True)
class Action:
    count: int
    text: str


def nothing_audited(result: ScanResult) -> str:
    """Why nothing was audited (a read above the subscriptions failed), or "" when something was. The CLI writes
    no page then; the page says so where one is made of such a result all the same."""
    if not result.nothing_audited or not result.metadata.tenant_errors:
        return ""
    first = result.metadata.tenant_errors[0]
    code = f" ({first.code})" if first.code else ""
    return f"the {first.operation} list could not be read{code}; no subscription was listed, so none was read."


@dataclass(frozen=True)
class OwnerActions:
    """What to do for the resources one value of the first --tag names (its owner, say)."""

    value: str
    actions: list[Action]


def actions_by_owner(
    findings: pd.DataFrame, result: ScanResult, accepted: np.ndarray
) -> tuple[str, list[OwnerActions]]:
    """With --tag: the first tag's name, and what to do grouped by its values (untagged last); else ("", []).
    `accepted`: which findings an exception accepts."""
    if not result.metadata.tag_names:
        return "", []
    name = result.metadata.tag_names[0].lower()
    values = np.array([next((v for k, v in f.tags if k.lower() == name), "") for f in result.findings], dtype=object)
    groups = []
    for value in sorted(set(values), key=lambda v: (v == "", v)):
        rows = values == value
        said = actions(findings[rows], result, int((accepted & rows).sum()), subscriptions=False)
        if said:
            groups.append(OwnerActions(value or f"(no {result.metadata.tag_names[0]} tag)", said))
    return result.metadata.tag_names[0], groups


def actions(
    findings: pd.DataFrame, result: ScanResult, accepted: int = 0, *, subscriptions: bool = True
) -> list[Action]:
    """What to do, grouped by the kind of action, each with how many resources (or subscriptions) it concerns;
    open resources an exception accepts (`accepted`) need none. `subscriptions`: with the subscriptions that could
    not be read (not for a group of resources)."""
    verdicts = findings["verdict"].to_numpy()
    unknown = verdicts == Verdict.UNKNOWN.value
    # only the unknown findings' remediations are read: a million rows' text matched six times would take seconds
    remedies = pd.Series(findings["remediation"].to_numpy()[unknown], dtype=object).astype(str)
    unread = sum(1 for s in result.subscriptions if s.errors) if subscriptions else 0
    counted = [
        (
            (verdicts == Verdict.OPEN.value).sum() - accepted,
            "resource(s) can send now: close the path, or send through a relay.",
        ),
        (
            (findings["platform_policy"].to_numpy() == PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE.value).sum(),
            "resource(s) are blocked by Azure and the block can be lifted: request the exemption (each row says how).",
        ),
        (unread, "subscription(s) could not be read in full: give the identity Reader on them, then scan again."),
        (
            remedies.str.startswith("Give the identity").sum() + remedies.str.startswith("Add subscription").sum(),
            "resource(s) are unknown for want of read access to part of their network.",
        ),
        (
            remedies.str.startswith("Set `").sum(),
            "resource(s) need a fact in the audit config (the subscription's offer or creation date).",
        ),
        (
            remedies.str.startswith(("Check ", "Find out")).sum(),
            "resource(s) leave Azure through an appliance or on-premises: check that egress.",
        ),
    ]
    return [Action(int(count), text) for count, text in counted if count]


class HtmlFormatter(Formatter):
    FILE_NAMES = frozenset({"report.html"})

    def format(self, result: ScanResult) -> dict[str, Chunks]:
        findings = findings_table(result.findings, OVERVIEW_COLUMNS)
        subscriptions = subscriptions_table(result)
        meta = result.metadata
        # most severe first, so the row limit keeps the most severe
        shown = by_severity(result.findings, findings, TABLE_ROW_LIMIT)
        drift = drift_table(result)
        totals = verdict_counts(findings)
        counts = open_counts(result.findings)
        accepted = np.array([f.accepted for f in result.findings], dtype=bool)
        owner_tag, owner_actions = actions_by_owner(findings, result, accepted)
        open_rows = (findings["verdict"].to_numpy() == Verdict.OPEN.value) & ~accepted
        page = _environment.get_template("report.html.j2").render(
            nothing_audited=nothing_audited(result),
            open_count=counts.not_accepted,
            open_counts=counts,
            open_subscriptions=sorted(set(findings["subscription_name"].to_numpy()[open_rows])),
            actions=actions(findings, result, counts.accepted),
            owner_tag=owner_tag,
            owner_actions=owner_actions,
            register=exceptions_table(result).to_dict(orient="records"),
            meta=meta,
            complete=result.complete,
            tenants=sorted({s.subscription.tenant_id for s in result.subscriptions if s.subscription.tenant_id}),
            unreadable=[s for s in result.subscriptions if s.errors],
            verdicts=[v.value for v in Verdict],
            verdict_labels=VERDICT_LABELS,
            policy_labels=POLICY_LABELS,
            severity_labels=SEVERITY_LABELS,
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
            trend=result.trend,
            trend_max=max((max(t.open, t.unknown) for t in result.trend), default=0) or 1,
            drift_rows=[
                {**row, "new_exposure": change.is_new_exposure}
                for row, change in zip(
                    drift.head(DRIFT_ROW_LIMIT).to_dict(orient="records"),
                    result.drift.changes if result.drift else (),
                    strict=False,
                )
            ],
            drift_total=len(drift),
            rules=RULES[meta.ruleset],
            edition=EDITIONS[meta.ruleset],
            article_url=ARTICLE_URL,
        )
        return {"report.html": [utf8(page)]}
