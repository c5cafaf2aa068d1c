"""Issue 15.5: an audit without the command line. `exit_status` is pure and decides the code alone; `status_lines`
says why; `run_scan` takes any Collector."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from auditor.audit import ScanOptions, exit_status, run_scan, status_lines, unused_config_lines, write_scan
from auditor.collect.interface import Auth, Collector
from auditor.collect.throttle import ScanStats
from auditor.model import (
    AuditConfig,
    Change,
    ChangeKind,
    CollectionError,
    Drift,
    ErrorCode,
    ScanResult,
    Scope,
    Subscription,
    SubscriptionFacts,
    SubscriptionInventory,
    TenantInventory,
    Verdict,
)
from auditor.report.interface import Format
from auditor.status import ExitStatus
from tests.recordings import synthetic_result

DENIED = CollectionError("virtualMachines", "GET /x", "forbidden", 403, "AuthorizationFailed")
EXPOSED = Change(ChangeKind.NEW, "/subscriptions/x/vm", "vm", "Microsoft.Compute/virtualMachines", "x", None,
                 Verdict.OPEN)  # fmt: skip


def _unreadable(result: ScanResult) -> ScanResult:
    return replace(
        result, subscriptions=(replace(result.subscriptions[0], errors=(DENIED,)), *result.subscriptions[1:])
    )


def _exposed(result: ScanResult) -> ScanResult:
    return replace(result, drift=Drift("b", "2026-01-01", (EXPOSED,)))


CLEAN = synthetic_result(5)  # one resource of each verdict


@pytest.mark.parametrize(
    ("result", "fail_on", "expected"),
    [
        (CLEAN, set(), ExitStatus.SUCCESS),
        (CLEAN, {Verdict.OPEN}, ExitStatus.FINDINGS),
        (synthetic_result(0), {Verdict.OPEN}, ExitStatus.SUCCESS),  # nothing has the verdict
        (_unreadable(CLEAN), set(), ExitStatus.INCOMPLETE),
        (_unreadable(CLEAN), {Verdict.UNKNOWN}, ExitStatus.FINDINGS),  # the gate wins over 'incomplete'
        (_exposed(CLEAN), set(), ExitStatus.FINDINGS),
        (_exposed(_unreadable(CLEAN)), set(), ExitStatus.FINDINGS),
    ],
    ids=["complete", "fail-on", "fail-on-nothing", "incomplete", "gate-over-incomplete", "exposure", "exposure-2"],
)
def test_exit_status(result: ScanResult, fail_on: set[Verdict], expected: ExitStatus) -> None:
    assert exit_status(result, fail_on) is expected


def test_status_lines_say_what_was_not_read_and_why_the_gate_tripped() -> None:
    lines = status_lines(_exposed(_unreadable(CLEAN)), {Verdict.OPEN})

    assert lines == [
        "the audit is INCOMPLETE: 1 list(s) in 1 subscription(s) could not be read; they are marked in the reports "
        "(subscriptions.csv, column collection).",
        "--fail-on: 1 resource(s) with verdict open.",
        "new exposure since the baseline: 1 resource(s) now open (vm).",
    ]
    assert status_lines(CLEAN, set()) == []


def test_a_failed_sign_in_says_what_was_tried_and_what_to_do() -> None:
    failed = CollectionError("subscriptions", "GET /subscriptions", "no credential answered", None,
                             ErrorCode.SIGN_IN_FAILED)  # fmt: skip
    result = replace(synthetic_result(0), subscriptions=(), metadata=replace(CLEAN.metadata, tenant_errors=(failed,)))

    first, second = status_lines(result, set(), Auth.CLI)

    assert first == (
        "could not sign in, so no subscription was audited: no credential answered (tried Azure CLI (az login)). "
        "To fix: run az login (and az cloud set for a sovereign cloud)."
    )
    # issue 27.7: nothing audited is not one unreadable list: its own code, and --out is left as it was
    assert second == "nothing was audited, so no report was written: the reports in --out are left as they were."
    assert exit_status(result, set()) is ExitStatus.NOTHING_AUDITED


def test_a_config_entry_for_a_subscription_not_seen_is_named_unless_outside_the_scope() -> None:
    typo = "99999999-9999-9999-9999-999999999999"
    seen = CLEAN.subscriptions[0].subscription.subscription_id
    config = AuditConfig({typo: SubscriptionFacts(), seen: SubscriptionFacts()})

    (line,) = unused_config_lines(config, CLEAN, Path("audit.toml"))
    scoped = replace(CLEAN, metadata=replace(CLEAN.metadata, scope=(seen,)))

    assert line.startswith(f'audit.toml: [subscriptions."{typo}"] names a subscription that is not in')
    assert unused_config_lines(config, scoped, Path("audit.toml")) == []


class _Listed(Collector):
    """A collector that hands back an inventory it was given, and the scope it was asked for."""

    def __init__(self, inventory: TenantInventory) -> None:
        self.stats = ScanStats()
        self.inventory = inventory
        self.asked: Sequence[str] | None = None

    def collect(self, scope: Sequence[str] = ()) -> TenantInventory:
        self.asked = scope
        return self.inventory


def test_run_scan_takes_any_collector_and_stamps_the_run(tmp_path: Path) -> None:
    subscription = Subscription("11111111-1111-1111-1111-111111111111", "one", "Enabled", "t", "PayAsYouGo_2014-09-01")
    collector = _Listed(TenantInventory((SubscriptionInventory(subscription),), billing_note="no billing access"))
    times = iter([dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC), dt.datetime(2026, 12, 1, 8, 5, tzinfo=dt.UTC)])
    scope = Scope((subscription.subscription_id,), ("mg-landing",))
    options = ScanOptions(collector, "test:in-memory", scope=scope, now=lambda: next(times))

    result = run_scan(options)

    assert collector.asked == scope
    assert result.metadata.scope == (
        subscription.subscription_id,
        "/providers/Microsoft.Management/managementGroups/mg-landing",
    )
    assert result.metadata.source == "test:in-memory"
    assert (result.metadata.finished - result.metadata.started) == dt.timedelta(minutes=5)
    assert result.findings == () and result.complete and result.drift is None
    written = write_scan(result, tmp_path / "out", [Format.CSV], history=tmp_path / "history")
    assert sorted(p.name for p in written) == ["findings.csv", "subscriptions.csv"]
    assert len(list((tmp_path / "history").glob("*.json"))) == 1  # kept even though json was not asked for
