"""What a person reads in the HTML and XLSX reports: plain labels, and the order of severity. The CSV and JSON keep
the machine values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.model import PlatformPolicy, Verdict

VERDICT_LABELS: dict[str, str] = {
    Verdict.OPEN: "Open",
    Verdict.BLOCKED: "Blocked by Azure",
    Verdict.DENIED_BY_NETWORK: "Denied by network",
    Verdict.NOT_SUPPORTED: "Not supported",
    Verdict.UNKNOWN: "Unknown",
}
POLICY_LABELS: dict[str, str] = {
    PlatformPolicy.NOT_BLOCKED: "Not blocked",
    PlatformPolicy.BLOCKED: "Blocked",
    PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE: "Exemption available",
    PlatformPolicy.EXEMPTED: "Exempted",
    PlatformPolicy.NOT_SUPPORTED: "Not supported",
    PlatformPolicy.UNKNOWN: "Unknown",
}
# Most severe first: can send now; cannot be told; blocked but an exemption would open it; blocked; denied by the
# network; no path at all.
SEVERITY = ("open", "unknown", "exemption_available", "blocked", "denied_by_network", "not_supported")
SEVERITY_LABELS = {
    "open": "Open",
    "unknown": "Unknown",
    "exemption_available": "Exemption available",
    "blocked": "Blocked by Azure",
    "denied_by_network": "Denied by network",
    "not_supported": "Not supported",
}


def by_severity(findings: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """The findings, most severe first (then subscription, resource), with `severity` and `severity_rank` columns;
    the first `limit` of them when given. A blocked row whose block can be lifted comes before the other blocked
    ones."""
    rank_of = {level: rank for rank, level in enumerate(SEVERITY)}
    verdicts = findings["verdict"].to_numpy()
    ranks = np.fromiter((rank_of[verdict] for verdict in verdicts), np.int8, len(verdicts))
    lifted = (verdicts == Verdict.BLOCKED) & (
        findings["platform_policy"].to_numpy() == PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE
    )
    ranks[lifted] = rank_of["exemption_available"]
    rows = np.arange(len(findings))
    if limit is not None and limit < len(rows):
        # only the rows up to the severity that reaches the limit can be among the first `limit`
        reached = int(np.searchsorted(np.cumsum(np.bincount(ranks, minlength=len(SEVERITY))), limit))
        rows = np.flatnonzero(ranks <= reached)
    # the three sort keys alone are sorted, and only the rows kept are copied: a million rows' table copied whole
    # to be sorted would hold it twice
    keys = pd.DataFrame(
        {
            "severity_rank": ranks[rows],
            "subscription_name": pd.Series(findings["subscription_name"].to_numpy()[rows], dtype=object),
            "resource_name": pd.Series(findings["resource_name"].to_numpy()[rows], dtype=object),
        }
    )
    order = rows[keys.sort_values(list(keys.columns), kind="stable").index.to_numpy()[:limit]]
    return findings.iloc[order].assign(
        severity=[SEVERITY[rank] for rank in ranks[order]], severity_rank=ranks[order].astype(int)
    )
