"""What changed since a baseline scan: new and removed resources, and verdict changes."""

from __future__ import annotations

from auditor.model import Baseline, Change, ChangeKind, Drift, Finding, SubscriptionSummary, resource_unread


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
                )
            )
        elif previous.verdict is not finding.verdict:
            changes.append(
                Change(
                    ChangeKind.VERDICT_CHANGED,
                    resource.resource_id,
                    resource.name,
                    resource.resource_type,
                    finding.subscription_id,
                    previous.verdict,
                    finding.verdict,
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
    order = {ChangeKind.VERDICT_CHANGED: 0, ChangeKind.NEW: 1, ChangeKind.REMOVED: 2, ChangeKind.NOT_READ: 3}
    changes.sort(key=lambda c: (not c.is_new_exposure, order[c.kind], c.subscription_id, c.resource_id.lower()))
    return Drift(baseline.source, baseline.started, tuple(changes))
