"""The order the HTML and the workbook show findings in: most severe first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from auditor.model import PlatformPolicy, Verdict

# The findings' order, most severe first: can send now; cannot be told; blocked, but an exemption would open it;
# blocked; denied by the network; no path at all. A sort key only: a blocked row whose block can be lifted is still
# of the verdict blocked, and says so.
SEVERITY = ("open", "unknown", "exemption_available", "blocked", "denied_by_network", "not_supported")


def severity_order(overview: pd.DataFrame, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rows' positions most severe first (then subscription, resource), the first `limit` of them when given,
    and each one's rank in SEVERITY. A blocked row whose block can be lifted comes before the other blocked ones.
    `overview` needs the verdict, platform_policy, subscription_name and resource_name columns."""
    rank_of = {level: rank for rank, level in enumerate(SEVERITY)}
    verdicts = overview["verdict"].to_numpy()
    ranks = np.fromiter((rank_of[verdict] for verdict in verdicts), np.int8, len(verdicts))
    lifted = (verdicts == Verdict.BLOCKED) & (
        overview["platform_policy"].to_numpy() == PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE
    )
    ranks[lifted] = rank_of["exemption_available"]
    rows = np.arange(len(overview))
    if limit is not None and limit < len(rows):
        # only the rows up to the severity that reaches the limit can be among the first `limit`
        reached = int(np.searchsorted(np.cumsum(np.bincount(ranks, minlength=len(SEVERITY))), limit))
        rows = np.flatnonzero(ranks <= reached)
    keys = pd.DataFrame(
        {
            "severity_rank": ranks[rows],
            "subscription_name": pd.Series(overview["subscription_name"].to_numpy()[rows], dtype=object),
            "resource_name": pd.Series(overview["resource_name"].to_numpy()[rows], dtype=object),
        }
    )
    order = rows[keys.sort_values(list(keys.columns), kind="stable").index.to_numpy()[:limit]]
    return order, ranks[order]
