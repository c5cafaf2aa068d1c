"""Issue 15.7: `compare` over model objects: what changed since a baseline, and what counts as new exposure."""

from __future__ import annotations

from dataclasses import replace

from auditor.classify.drift import compare
from auditor.model import (
    Baseline,
    ChangeKind,
    CollectionError,
    Finding,
    PreviousFinding,
    SubscriptionSummary,
    Verdict,
)
from tests.recordings import synthetic_result

RESULT = synthetic_result(10)  # 10 VMs over 20 subscriptions, verdicts in turn


def _finding(index: int, verdict: Verdict) -> Finding:
    finding = RESULT.findings[index]
    return replace(finding, assessment=replace(finding.assessment, verdict=verdict))


def _previous(finding: Finding, verdict: Verdict) -> PreviousFinding:
    resource = finding.resource
    return PreviousFinding(
        resource.resource_id, resource.name, resource.resource_type, finding.subscription_id, verdict
    )


def _baseline(*previous: PreviousFinding) -> Baseline:
    return Baseline("previous/scan.json", "2026-11-01T00:00:00+00:00", previous)


def test_a_resource_that_became_open_is_new_exposure_and_one_that_stayed_open_is_not() -> None:
    became = _finding(0, Verdict.OPEN)
    stayed = _finding(1, Verdict.OPEN)
    closed = _finding(2, Verdict.BLOCKED)
    baseline = _baseline(
        _previous(became, Verdict.BLOCKED), _previous(stayed, Verdict.OPEN), _previous(closed, Verdict.OPEN)
    )

    drift = compare(baseline, (became, stayed, closed), RESULT.subscriptions)

    kinds = {c.resource_name: (c.kind, c.before, c.after) for c in drift.changes}
    assert kinds == {
        became.resource.name: (ChangeKind.VERDICT_CHANGED, Verdict.BLOCKED, Verdict.OPEN),
        closed.resource.name: (ChangeKind.VERDICT_CHANGED, Verdict.OPEN, Verdict.BLOCKED),
    }
    assert [c.resource_name for c in drift.new_exposure] == [became.resource.name]
    assert drift.changes[0].is_new_exposure  # new exposure is listed first


def test_a_new_open_resource_is_new_exposure_and_a_new_blocked_one_is_only_new() -> None:
    new_open, new_blocked = _finding(0, Verdict.OPEN), _finding(1, Verdict.BLOCKED)

    drift = compare(_baseline(), (new_blocked, new_open), RESULT.subscriptions)

    assert [(c.kind, c.after) for c in drift.changes] == [
        (ChangeKind.NEW, Verdict.OPEN),
        (ChangeKind.NEW, Verdict.BLOCKED),
    ]
    assert len(drift.new_exposure) == 1 and drift.baseline == "previous/scan.json"


def test_a_missing_resource_is_removed_only_where_its_list_was_read() -> None:
    """A VM absent now is 'removed' when virtualMachines was read in its subscription; 'not_read' when that list
    failed, or when its subscription is not in this scan at all."""
    gone, unread_one, elsewhere = RESULT.findings[0], RESULT.findings[1], RESULT.findings[2]
    failed = CollectionError("virtualMachines", "GET ...", "forbidden", 403, "AuthorizationFailed")
    summaries: list[SubscriptionSummary] = []
    for summary in RESULT.subscriptions:
        if summary.subscription.subscription_id == unread_one.subscription_id:
            summary = replace(summary, errors=(failed,))
        if summary.subscription.subscription_id != elsewhere.subscription_id:
            summaries.append(summary)
    baseline = _baseline(*(_previous(f, Verdict.OPEN) for f in (gone, unread_one, elsewhere)))

    drift = compare(baseline, (), tuple(summaries))

    kinds = {c.resource_name: c.kind for c in drift.changes}
    assert kinds == {
        gone.resource.name: ChangeKind.REMOVED,
        unread_one.resource.name: ChangeKind.NOT_READ,
        elsewhere.resource.name: ChangeKind.NOT_READ,
    }
    assert drift.new_exposure == ()


def test_resource_ids_are_compared_without_case() -> None:
    """Azure resource ids are case-insensitive: the same VM with its group in capitals is not new."""
    finding = _finding(0, Verdict.OPEN)
    previous = _previous(finding, Verdict.OPEN)
    shouting = replace(previous, resource_id=previous.resource_id.replace("resourceGroups/rg", "resourceGroups/RG"))

    assert compare(_baseline(shouting), (finding,), RESULT.subscriptions).changes == ()
