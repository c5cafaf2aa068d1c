"""The report tables, as pandas DataFrames, shared by every format."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
import pandas as pd

from auditor.model import Finding, ScanResult, Verdict

FINDING_COLUMNS = [
    "tenant_id",
    "subscription_id",
    "subscription_name",
    "offer",
    "quota_id",
    "resource_id",
    "resource_name",
    "resource_type",
    "kind",
    "resource_group",
    "location",
    "platform_policy",
    "egress",
    "verdict",
    "rule",
    "reason",
    "remediation",
    # appended in schema_version 2, never reordered
    "via",
    "via_policy",
    "relay_587",
]

# Columns whose values are port25-audit's own words (enum values, rule ids), never text from Azure.
OWN_FINDING_COLUMNS = frozenset({"offer", "platform_policy", "egress", "verdict", "rule", "via_policy", "relay_587"})

SUBSCRIPTION_COLUMNS = [
    "subscription_id",
    "subscription_name",
    "tenant_id",
    "state",
    "offer",
    "quota_id",
    "offer_note",
    "vm_policy",
    "vm_rule",
    "exemption",
    *[v.value for v in Verdict],
    "collection",
    # appended, never reordered
    "management_group",
]


# The last scan's findings table: every format asks for it, and at a million rows it takes seconds to build.
_last_table: tuple[tuple[Finding, ...], pd.DataFrame] | None = None


def findings_table(result: ScanResult) -> pd.DataFrame:
    """One row per finding, built once per scan (formats only read it)."""
    global _last_table
    if _last_table is not None and _last_table[0] is result.findings:
        return _last_table[1]
    table = _findings_table(result.findings)
    _last_table = (result.findings, table)
    return table


def _findings_table(findings: tuple[Finding, ...]) -> pd.DataFrame:
    # one array for every column, filled a column at a time and handed to pandas as it is: a million rows' 20
    # columns built as lists first and then copied into the frame would hold twice the memory at the peak
    cells = np.empty((len(FINDING_COLUMNS), len(findings)), dtype=object)
    for row, column in zip(cells, _finding_columns(findings), strict=True):
        row[:] = column
    return pd.DataFrame(cells.T, columns=FINDING_COLUMNS, dtype=object, copy=False)


def _finding_columns(findings: tuple[Finding, ...]) -> Iterator[list[str]]:
    """findings.csv's columns in FINDING_COLUMNS' order, one at a time."""
    yield [f.tenant_id for f in findings]
    yield [f.subscription_id for f in findings]
    yield [f.subscription_name for f in findings]
    yield [f.offer for f in findings]
    yield [f.quota_id for f in findings]
    yield [f.resource.resource_id for f in findings]
    yield [f.resource.name for f in findings]
    yield [f.resource.resource_type for f in findings]
    yield [f.resource.kind for f in findings]
    yield [f.resource.resource_group for f in findings]
    yield [f.resource.location for f in findings]
    yield [f.platform_policy.value for f in findings]
    yield [f.egress.value for f in findings]
    yield [f.verdict.value for f in findings]
    yield [f.rule for f in findings]
    yield [f.reason for f in findings]
    yield [f.remediation for f in findings]
    yield [f.via for f in findings]
    yield [f.via_policy for f in findings]
    yield [f.relay_587.value if f.relay_587 else "" for f in findings]


def subscriptions_table(result: ScanResult) -> pd.DataFrame:
    rows = []
    for s in result.subscriptions:
        row: dict[str, object] = {
            "subscription_id": s.subscription.subscription_id,
            "subscription_name": s.subscription.display_name,
            "tenant_id": s.subscription.tenant_id,
            "state": s.subscription.state,
            "offer": s.offer.offer.value if s.offer.offer else "unknown",
            "quota_id": s.subscription.quota_id or "",
            "offer_note": s.offer.note,
            "vm_policy": s.vm_policy.value,
            "vm_rule": s.vm_rule,
            "exemption": s.exemption_route,
            "collection": s.collection,
            "management_group": s.subscription.management_group,
        }
        row.update({verdict.value: s.verdict_counts.get(verdict, 0) for verdict in Verdict})
        rows.append(row)
    return pd.DataFrame(rows, columns=SUBSCRIPTION_COLUMNS)


DRIFT_COLUMNS = [
    "change",
    "resource_id",
    "resource_name",
    "resource_type",
    "subscription_id",
    "verdict_before",
    "verdict_after",
]


def drift_table(result: ScanResult) -> pd.DataFrame:
    changes = result.drift.changes if result.drift else ()
    rows = [
        {
            "change": c.kind.value,
            "resource_id": c.resource_id,
            "resource_name": c.resource_name,
            "resource_type": c.resource_type,
            "subscription_id": c.subscription_id,
            "verdict_before": c.before.value if c.before else None,
            "verdict_after": c.after.value if c.after else None,
        }
        for c in changes
    ]
    return pd.DataFrame(rows, columns=DRIFT_COLUMNS, dtype=object)


def verdict_counts(findings: pd.DataFrame) -> dict[str, int]:
    counts = findings["verdict"].value_counts()
    return {v.value: int(counts.get(v.value, 0)) for v in Verdict}


def verdicts_by_offer(findings: pd.DataFrame) -> pd.DataFrame:
    """One row per offer, one column per verdict (every verdict, even when none has it)."""
    # counted in one pass over the two columns: pandas' crosstab of a million rows holds copies of both
    counts = Counter(zip(findings["offer"].to_numpy(), findings["verdict"].to_numpy(), strict=True))
    offers = sorted({offer for offer, _ in counts})
    verdicts = [v.value for v in Verdict]
    table = pd.DataFrame(
        [[counts.get((offer, verdict), 0) for verdict in verdicts] for offer in offers], columns=verdicts, dtype="int64"
    )
    table.insert(0, "offer", pd.Series(offers, dtype=object))
    table["total"] = table[verdicts].sum(axis=1)
    return table


def verdicts_by_subscription(subscriptions: pd.DataFrame) -> pd.DataFrame:
    """One row per subscription (readable or not), one column per verdict."""
    table = subscriptions[
        ["subscription_id", "subscription_name", "offer", "offer_note", "collection", *[v.value for v in Verdict]]
    ].copy()
    table["total"] = table[[v.value for v in Verdict]].sum(axis=1)
    return table
