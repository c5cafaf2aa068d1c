"""Issue 15.7: the report tables over model objects: their columns (docs/design.md §5) and what they count."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pandas as pd

from auditor.model import Change, ChangeKind, Drift, Verdict
from auditor.report.order import SEVERITY, severity_order
from auditor.report.tables import (
    DRIFT_COLUMNS,
    FINDING_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    drift_table,
    findings_table,
    subscriptions_table,
    verdict_counts,
    verdicts_by_offer,
    verdicts_by_subscription,
)
from tests.recordings import synthetic_result


def test_findings_table_has_a_row_per_finding_in_the_contract_s_column_order() -> None:
    result = synthetic_result(7)

    table = findings_table(result.findings)

    assert list(table.columns) == FINDING_COLUMNS and len(table) == 7
    # appended, never reordered (docs/design.md section 5)
    assert FINDING_COLUMNS[-9:] == [
        "via", "via_policy", "relay_587", "state", "exception", "exception_owner", "exception_expires",
        "exception_ticket", "tags",
    ]  # fmt: skip
    first = result.findings[0]
    assert table.iloc[0]["resource_id"] == first.resource.resource_id
    assert table.iloc[0]["verdict"] == first.verdict.value and table.iloc[0]["relay_587"] == ""


def test_verdict_counts_name_every_verdict_even_those_no_resource_has() -> None:
    result = synthetic_result(3)  # open, blocked, denied_by_network (in the order synthetic_result gives)

    counts = verdict_counts(findings_table(result.findings))

    assert set(counts) == {v.value for v in Verdict}
    had = Counter(f.verdict.value for f in result.findings)
    assert counts == {v.value: had.get(v.value, 0) for v in Verdict}
    assert sum(counts.values()) == 3 and 0 in counts.values()


def test_subscriptions_table_counts_by_verdict_and_says_collection() -> None:
    result = synthetic_result(0)
    summary = replace(result.subscriptions[0], verdict_counts={**dict.fromkeys(Verdict, 0), Verdict.OPEN: 4})
    result = replace(result, subscriptions=(summary, *result.subscriptions[1:]))

    table = subscriptions_table(result)

    assert list(table.columns) == SUBSCRIPTION_COLUMNS and len(table) == 20
    assert table.iloc[0][Verdict.OPEN.value] == 4 and table.iloc[0]["collection"] == "ok"
    by_subscription = verdicts_by_subscription(table)
    assert by_subscription.iloc[0]["total"] == 4 and by_subscription["total"].sum() == 4


def test_verdicts_by_offer_has_a_total_and_every_verdict_column() -> None:
    table = verdicts_by_offer(findings_table(synthetic_result(10).findings))

    assert list(table.columns) == ["offer", *[v.value for v in Verdict], "total"]
    assert table["total"].tolist() == [10] and table.iloc[0]["offer"] == "pay_as_you_go"
    empty = verdicts_by_offer(findings_table(synthetic_result(0).findings))
    assert list(empty.columns) == ["offer", *[v.value for v in Verdict], "total"] and empty.empty


def test_drift_table_leaves_an_absent_verdict_empty() -> None:
    change = Change(ChangeKind.REMOVED, "/subscriptions/x/vm", "vm", "Microsoft.Compute/virtualMachines", "x",
                    Verdict.OPEN, None)  # fmt: skip
    result = replace(synthetic_result(0), drift=Drift("b", "2026-01-01", (change,)))

    table = drift_table(result)

    assert list(table.columns) == DRIFT_COLUMNS
    assert table.iloc[0]["verdict_before"] == "open" and table.iloc[0]["verdict_after"] is None
    assert drift_table(synthetic_result(0)).empty


def test_the_first_rows_by_severity_are_those_of_the_whole_order() -> None:
    """The HTML shows the first rows only and sorts only the severities that can reach them: the rows must be the
    whole order's first ones, whatever the limit, a lifted block ahead of the other blocked rows."""
    rows = 40
    verdicts = ["blocked", "open", "unknown", "denied_by_network", "not_supported"]
    table = pd.DataFrame(
        {
            "verdict": [verdicts[i % 5] for i in range(rows)],
            "platform_policy": ["blocked_exemption_available" if i % 3 == 0 else "blocked" for i in range(rows)],
            "subscription_name": [f"sub {i % 4}" for i in range(rows)],
            "resource_name": [f"vm {(i * 7) % 10}" for i in range(rows)],  # ties, which the original order breaks
        },
        dtype=object,
    )
    whole, ranks = severity_order(table)
    levels = [SEVERITY[rank] for rank in ranks]
    assert levels[:8] == ["open"] * 8
    assert levels[16:19] == ["exemption_available"] * 3
    assert levels[19] == "blocked"
    for limit in (0, 1, 7, 8, 9, 19, 20, 39, 40, 41):
        first, first_ranks = severity_order(table, limit)
        assert first.tolist() == whole.tolist()[:limit], limit
        assert first_ranks.tolist() == ranks.tolist()[:limit], limit
