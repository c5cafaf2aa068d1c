"""What changed since a baseline scan: new and removed resources, and verdict changes."""

from __future__ import annotations

from auditor.model import (
    Baseline,
    Change,
    ChangeKind,
    Drift,
    ExceptionState,
    Finding,
    SubscriptionSummary,
    resource_unread,
)


def compare(baseline: Baseline, findings: tuple[Finding, ...], subscriptions: tuple[SubscriptionSummary, ...]) -> Drift:
    now = {f.resource.resource_id.lower(): f for f in findings}
    before = {p.resource_id.lower(): p for p in baseline.findings}
    unread = {s.subscription.subscription_id: {e.operation for e in s.errors} for s in subscriptions}
    changes: list[Change] = []
    for key, finding in now.items():
        resource = finding.resource
        previous = before.get(key)
        if previous is None:
            changes.append(
                Change(
                    ChangeKind.NEW,
                    resource.resource_id,
                    resource.name,
                    resource.resource_type,
                    finding.subscription_id,
                    None,
                    finding.verdict,
                    accepted_now=finding.accepted,
                )
            )
        else:
            accepted_before = previous.exception is ExceptionState.ACCEPTED
            if previous.verdict is not finding.verdict:
                kind = ChangeKind.VERDICT_CHANGED
            elif accepted_before and not finding.accepted:
                kind = ChangeKind.EXCEPTION_EXPIRED  # the same verdict, no longer accepted
            else:
                continue
            changes.append(
                Change(
                    kind,
                    resource.resource_id,
                    resource.name,
                    resource.resource_type,
                    finding.subscription_id,
                    previous.verdict,
                    finding.verdict,
                    accepted_before,
                    finding.accepted,
                )
            )
    for key, previous in before.items():
        if key in now:
            continue
        failed = unread.get(previous.subscription_id.lower())
        # "removed" only where the list it comes from was read now
        not_read = failed is None or resource_unread(failed, previous.resource_type, previous.resource_id)
        changes.append(
            Change(
                ChangeKind.NOT_READ if not_read else ChangeKind.REMOVED,
                previous.resource_id,
                previous.resource_name,
                previous.resource_type,
                previous.subscription_id,
                previous.verdict,
                None,
            )
        )
    order = {
        ChangeKind.VERDICT_CHANGED: 0,
        ChangeKind.EXCEPTION_EXPIRED: 1,
        ChangeKind.NEW: 2,
        ChangeKind.REMOVED: 3,
        ChangeKind.NOT_READ: 4,
    }
    changes.sort(key=lambda c: (not c.is_new_exposure, order[c.kind], c.subscription_id, c.resource_id.lower()))
    return Drift(baseline.source, baseline.started, tuple(changes))
