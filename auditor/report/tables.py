"""The report tables, as pandas DataFrames, shared by every format."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from operator import attrgetter

import numpy as np
import pandas as pd

from auditor.model import (
    AcceptedException,
    Egress,
    ExceptionMatch,
    ExceptionState,
    Finding,
    PlatformPolicy,
    PowerState,
    ScanResult,
    StaleWhy,
    Verdict,
)
from auditor.report.interface import CHUNK_ROWS
from auditor.report.labels import label

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
    "state",  # appended after relay_587 (issue 25), never reordered
    # the exceptions register (issue 26): accepted or expired, the entry's owner, expiry and ticket
    "exception",
    "exception_owner",
    "exception_expires",
    "exception_ticket",
    "tags",  # --tag: name=value; … (its own, else its resource group's)
]

# Columns whose values are port25-audit's own words (enum values, rule ids), never text from Azure.
OWN_FINDING_COLUMNS = frozenset(
    {"offer", "platform_policy", "egress", "verdict", "rule", "via_policy", "relay_587", "state", "exception",
     "exception_expires"}
)  # fmt: skip

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


# Where each column of findings.csv comes from in a finding (the column's own name where not listed): the
# shared parts' columns read from them directly, a finding's own properties being a Python call each.
_FINDING_SOURCES = {
    "resource_id": "resource.resource_id",
    "resource_name": "resource.name",
    "resource_type": "resource.resource_type",
    "kind": "resource.kind",
    "resource_group": "resource.resource_group",
    "location": "resource.location",
    "state": "resource.state",
    **{name: f"subscription.{name}" for name in ("tenant_id", "subscription_id", "subscription_name", "offer")},
    "quota_id": "subscription.quota_id",
    **{
        name: f"assessment.{name}"
        for name in ("platform_policy", "egress", "verdict", "rule", "reason", "via", "via_policy", "relay_587", "path")
    },
    **dict.fromkeys(("exception", "exception_owner", "exception_expires", "exception_ticket"), "exception"),
}
# The parts of a finding that findings alike share, and so each column read from one of them: a column of a part
# is the same for every finding holding the same part object.
_SHARED_PARTS = ("subscription", "assessment")
_PART_OF = {name: source.split(".")[0] for name, source in _FINDING_SOURCES.items() if "." in source}


def column_runs(columns: Sequence[str]) -> list[tuple[str | None, list[str]]]:
    """The columns in order, in runs: each run of adjacent columns read from one shared part with that part's name,
    every other column a run of its own (None)."""
    runs: list[tuple[str | None, list[str]]] = []
    for name in columns:
        part = _PART_OF.get(name)
        shared = part if part in _SHARED_PARTS else None
        if shared is not None and runs and runs[-1][0] == shared:
            runs[-1][1].append(name)
        else:
            runs.append((shared, [name]))
    return runs


def encoded_rows(
    findings: Sequence[Finding], columns: Sequence[str], encoded: Callable[[Sequence[Finding], str], list[bytes]]
) -> list[list[bytes]]:
    """The findings' cells of `columns` as a format encodes them (`encoded`: a column's cells, one per finding), a
    list per run of `column_runs`: a run read from a shared part is encoded once a part object, its cells joined
    with "," as one piece. A million findings share a few thousand parts."""
    cells: list[list[bytes]] = []
    for shared, names in column_runs(columns):
        if shared is None:
            cells.extend(encoded(findings, name) for name in names)
            continue
        ids = list(map(id, map(attrgetter(shared), findings)))  # the findings hold their parts meanwhile
        one_each = dict(zip(ids, findings, strict=True))  # a finding holding each part (any: the run is the part's)
        pieces = zip(*(encoded(list(one_each.values()), name) for name in names), strict=True)
        piece_of = dict(zip(one_each, map(b",".join, pieces), strict=True))
        cells.append(list(map(piece_of.__getitem__, ids)))
    return cells


# Columns holding an enum member's value; "" where there is none (relay_587 of a resource with no path followed).
# A StrEnum member equals its value, so two enums' members of one value share a key, and that value.
_VALUES: dict[object, str] = {
    member: member.value for enum in (PlatformPolicy, Egress, Verdict, PowerState) for member in enum
}
_ENUM_COLUMNS = frozenset({"platform_policy", "egress", "verdict", "relay_587", "state"})
# What the HTML's counts, actions and order read of every finding; it shows whole rows for the first few only.
OVERVIEW_COLUMNS = ["offer", "subscription_name", "resource_name", "platform_policy", "verdict"]


def _exception_cell(match: ExceptionMatch, name: str) -> str:
    if name == "exception":
        return match.state.value
    entry = match.exception
    return {"exception_owner": entry.owner, "exception_expires": entry.expires.isoformat()}.get(name, entry.ticket)


_EXCEPTION_COLUMNS = frozenset({"exception", "exception_owner", "exception_expires", "exception_ticket"})


def finding_column(findings: Sequence[Finding], name: str) -> list[object]:
    """One column of findings.csv, a cell per finding (most findings have no exception, tags or firewall)."""
    read = attrgetter(_FINDING_SOURCES.get(name, name))
    if name in _EXCEPTION_COLUMNS:
        return ["" if match is None else _exception_cell(match, name) for match in map(read, findings)]
    if name == "tags":
        return ["; ".join(f"{k}={v}" for k, v in tags) if tags else "" for tags in map(read, findings)]
    if name == "via_policy":
        return ["" if policy is None else str(policy) for policy in map(read, findings)]
    if name in _ENUM_COLUMNS:
        return list(map(_VALUES.get, map(read, findings), repeat("")))
    return list(map(read, findings))


def findings_table(findings: Sequence[Finding], columns: Sequence[str] = FINDING_COLUMNS) -> pd.DataFrame:
    """A row per finding. Formats build it a slice at a time, or of the few columns they count: a million rows'
    25 columns held whole beside the findings would be 200 MB more at the peak."""
    # one array, filled a column at a time and handed to pandas as it is (no copy)
    cells = np.empty((len(columns), len(findings)), dtype=object)
    for row, name in zip(cells, columns, strict=True):
        row[:] = finding_column(findings, name)
    return pd.DataFrame(cells.T, columns=list(columns), dtype=object, copy=False)


def table_slices(table: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """A table CHUNK_ROWS rows at a time."""
    for start in range(0, len(table), CHUNK_ROWS):
        yield table.iloc[start : start + CHUNK_ROWS]


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


EXCEPTION_COLUMNS = [
    "exception",
    "resource_name",
    "resource_id",
    "subscription_id",
    "verdict",
    "accepted_verdicts",
    "reason",
    "owner",
    "ticket",
    "expires",
    "days_left",
    "entry",
    "attention",
]


def exceptions_table(result: ScanResult) -> pd.DataFrame:
    """The register as this run applied it, for people (the workbook, the page): each finding an entry accepts
    (expired ones first, then by expiry), then each stale entry (no resource), the states and verdicts in words.
    `days_left` counts from the scan's day (negative: expired that long); `attention`: expired or stale."""
    today = result.metadata.started.date()
    matched = sorted(
        (f for f in result.findings if f.exception is not None),
        key=lambda f: (f.accepted, f.exception.exception.expires if f.exception else today, f.resource.resource_id),
    )
    rows = []
    for finding in matched:
        assert finding.exception is not None
        entry = finding.exception.exception
        rows.append(
            _register_row(entry, label(ExceptionState, finding.exception.state), today)
            | {
                "resource_name": finding.resource.name,
                "resource_id": finding.resource.resource_id,
                "subscription_id": finding.subscription_id,
                "verdict": label(Verdict, finding.verdict),
                "attention": not finding.accepted,
            }
        )
    for stale in result.exceptions.stale:
        rows.append(_register_row(stale.exception, label(StaleWhy, stale.why), today))
    return pd.DataFrame(rows, columns=EXCEPTION_COLUMNS, dtype=object)


def _register_row(entry: AcceptedException, state: str, today: dt.date) -> dict[str, object]:
    return {
        "exception": state,
        "resource_name": "",
        "resource_id": "",
        "subscription_id": "",
        "verdict": "",
        "accepted_verdicts": ", ".join(label(Verdict, v) for v in Verdict if v in entry.verdicts),
        "reason": entry.reason,
        "owner": entry.owner,
        "ticket": entry.ticket,
        "expires": entry.expires.isoformat(),
        "days_left": (entry.expires - today).days,
        "entry": f"{entry.where} ({entry.selector})",
        "attention": True,
    }


DRIFT_COLUMNS = [
    "change",
    "resource_id",
    "resource_name",
    "resource_type",
    "subscription_id",
    "verdict_before",
    "verdict_after",
    # appended (issue 26): whether an exception accepted its verdict then, and does now
    "accepted_before",
    "accepted_after",
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
            "accepted_before": c.accepted_before,
            "accepted_after": c.accepted_now,
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
