"""report.html: one self-contained page (inline CSS, JS and SVG; no network) for filing and mailing.

At any size the page holds the aggregate views and at most TABLE_ROW_LIMIT findings (the first ones by
exposure), clearly labelled; every finding is in findings.csv and scan.json.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from auditor.classify.rules import ARTICLE, EDITIONS, RULES
from auditor.model import (
    Offer,
    ScanResult,
    SubscriptionSummary,
    Verdict,
    name_of,
)
from auditor.report.actions import Action, Step, actions, steps
from auditor.report.counts import open_counts
from auditor.report.interface import Chunks, Formatter
from auditor.report.labels import LABELS, UNKNOWN_OFFER, label, type_label
from auditor.report.order import severity_order
from auditor.report.tables import (
    OVERVIEW_COLUMNS,
    drift_table,
    exceptions_table,
    findings_table,
    verdict_counts,
    verdicts_by_offer,
)
from auditor.report.text import utf8

TABLE_ROW_LIMIT = 5_000
OPEN_NOW_LIMIT = 100
DRIFT_ROW_LIMIT = 5_000
PAGE_SLICE = 1 << 16

_environment = Environment(
    loader=PackageLoader("auditor.report", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def breakable(text: object) -> Markup:
    """The text escaped, with a line-break opportunity after each `/`: a long resource id wraps there, on screen
    and on paper, instead of mid-word."""
    return Markup(str(escape(str(text))).replace("/", "/<wbr>"))


def _label(value: str | None, enum: type[StrEnum]) -> str:
    return label(enum, value)


_environment.filters["breakable"] = breakable
_environment.filters["label"] = _label
_environment.filters["type_label"] = type_label
_environment.filters["name_of"] = name_of
# every labelled enum by its name, for the `label` filter (`{{ r.verdict | label(Verdict) }}`)
_environment.globals.update({enum.__name__: enum for enum in LABELS}, Step=Step)


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


def actions_by_owner(result: ScanResult, said: np.ndarray) -> tuple[str, list[OwnerActions]]:
    """With --tag: the first tag's name, and what to do grouped by its values (untagged last); else ("", []).
    `said`: each finding's step."""
    if not result.metadata.tag_names:
        return "", []
    name = result.metadata.tag_names[0].lower()
    values = np.array([next((v for k, v in f.tags if k.lower() == name), "") for f in result.findings], dtype=object)
    groups = []
    for value in sorted(set(values), key=lambda v: (v == "", v)):
        grouped = actions(said[values == value])
        if grouped:
            groups.append(OwnerActions(value or f"(no {result.metadata.tag_names[0]} tag)", grouped))
    return result.metadata.tag_names[0], groups


@dataclass(frozen=True)
class SubscriptionRow:
    """A line of the page's subscription table: counts, and what could not be read (Azure's words folded)."""

    summary: SubscriptionSummary
    counts: dict[str, int]
    total: int

    @property
    def offer(self) -> str:
        return label(Offer, self.summary.offer.offer or UNKNOWN_OFFER)


def subscription_rows(result: ScanResult) -> list[SubscriptionRow]:
    rows = []
    for summary in result.subscriptions:
        counts = {v.value: summary.verdict_counts.get(v, 0) for v in Verdict}
        rows.append(SubscriptionRow(summary, counts, sum(counts.values())))
    return rows


class HtmlFormatter(Formatter):
    FILE_NAMES = frozenset({"report.html"})

    def format(self, result: ScanResult) -> dict[str, Chunks]:
        findings = findings_table(result.findings, OVERVIEW_COLUMNS)
        meta = result.metadata
        accepted = np.array([f.accepted for f in result.findings], dtype=bool)
        said = steps(result.findings, findings, accepted)
        # most severe first, so the row limit keeps the most severe
        order, ranks = severity_order(findings, TABLE_ROW_LIMIT)
        shown_findings = [result.findings[position] for position in order]
        shown = findings_table(shown_findings).assign(
            severity_rank=ranks.astype(int),
            step=said[order],
            accepted=accepted[order],
            # the policy traffic through a firewall takes: the firewall's subscription's
            via_policy=[f.via_policy.policy.value if f.via_policy else "" for f in shown_findings],
        )
        drift = drift_table(result)
        totals = verdict_counts(findings)
        counts = open_counts(result.findings)
        owner_tag, owner_actions = actions_by_owner(result, said)
        opened = [result.findings[position] for position in np.flatnonzero(said == Step.CLOSE.value)]
        unreadable = [s for s in result.subscriptions if s.errors]
        page = _environment.get_template("report.html.j2").generate(
            nothing_audited=nothing_audited(result),
            open_count=counts.not_accepted,
            open_counts=counts,
            # the first OPEN_NOW_LIMIT, by subscription and name; the headline names every subscription
            open_now=heapq.nsmallest(OPEN_NOW_LIMIT, opened, key=lambda f: (f.subscription_name, f.resource.name)),
            open_subscriptions=sorted({f.subscription_name for f in opened}),
            actions=actions(said, len(unreadable)),
            owner_tag=owner_tag,
            owner_actions=owner_actions,
            register=exceptions_table(result).to_dict(orient="records"),
            meta=meta,
            complete=result.complete,
            tenants=sorted({s.subscription.tenant_id for s in result.subscriptions if s.subscription.tenant_id}),
            unreadable=unreadable,
            verdicts=[v.value for v in Verdict],
            totals=totals,
            chart_max=max(totals.values(), default=0) or 1,
            subscriptions=subscription_rows(result),
            by_offer=verdicts_by_offer(findings).to_dict(orient="records"),
            rows=shown.to_dict(orient="records"),
            total_rows=len(findings),
            row_limit=TABLE_ROW_LIMIT,
            subscription_names=sorted(set(shown["subscription_name"])),
            resource_types=sorted({(type_label(t), t) for t in shown["resource_type"]}),
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
            subscription_name_of={
                s.subscription.subscription_id: s.subscription.display_name for s in result.subscriptions
            },
            rules=RULES[meta.ruleset],
            edition=EDITIONS[meta.ruleset],
            article=ARTICLE,
        )
        return {"report.html": _in_slices(page)}


def _in_slices(pieces: Iterable[str]) -> Iterator[bytes]:
    """The page as the template makes it, in UTF-8 slices of about PAGE_SLICE characters: never the whole page as
    text, its pieces and its bytes at once (about 30 MB at the peak of a million findings' scan)."""
    buffered: list[str] = []
    length = 0
    for piece in pieces:
        buffered.append(piece)
        length += len(piece)
        if length >= PAGE_SLICE:
            yield utf8("".join(buffered))
            buffered, length = [], 0
    if buffered:
        yield utf8("".join(buffered))
