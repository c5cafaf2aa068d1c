"""One audit, from the tenant to the reports, without the command line: `run_scan` reads, classifies and
compares; `write_scan` writes the reports; `exit_status` and `status_lines` say how it went."""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from auditor import __version__
from auditor.classify.drift import compare
from auditor.classify.engine import classify
from auditor.classify.exceptions import ReadGaps, with_exceptions
from auditor.classify.tags import with_tag_values
from auditor.collect.interface import ADVICE, TRIED, Auth, Collector
from auditor.model import (
    DEFAULT_RULESET,
    MANAGEMENT_GROUP_PREFIX,
    SUBSCRIPTION_LIST,
    AcceptedException,
    AuditConfig,
    Baseline,
    CollectionError,
    ConfigProvenance,
    ErrorCode,
    Ruleset,
    ScanMetadata,
    ScanResult,
    Scope,
    StaleWhy,
    Verdict,
    group_of,
)
from auditor.report.formats import formatter_for, report_names
from auditor.report.history import copied, keep, trend
from auditor.report.interface import Format
from auditor.report.json import JsonFormatter
from auditor.report.write import write_reports
from auditor.status import ExitStatus

log = logging.getLogger(__name__)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class ScanOptions:
    collector: Collector
    source: str  # what was read, as the reports name it ("replay:tenant.json", "live:Azure Resource Manager")
    ruleset: Ruleset = DEFAULT_RULESET
    scope: Scope = field(default_factory=Scope)  # none named: every subscription the identity sees
    config: AuditConfig = field(default_factory=AuditConfig)
    provenance: ConfigProvenance | None = None
    baseline: Baseline | None = None
    history: Path | None = None  # earlier runs' scan.json files, for the trend
    portal: str = "https://portal.azure.com"
    now: Callable[[], dt.datetime] = _utc_now
    tag_names: tuple[str, ...] = ()  # --tag


def run_scan(options: ScanOptions) -> ScanResult:
    """Read the tenant, classify every resource, and compare with the baseline and the history."""
    started = options.now()
    inventory = options.collector.collect(options.scope)
    if inventory.billing_note:
        log.warning("%s", inventory.billing_note)
    findings, summaries = classify(inventory, options.config, options.ruleset)
    group_tags = {
        (item.subscription.subscription_id.lower(), group): tags
        for item in inventory.subscriptions
        for group, tags in item.group_tags.items()
    }
    findings, exceptions = with_exceptions(
        findings,
        options.config.exceptions,
        started.date(),
        ReadGaps({s.subscription.subscription_id for s in summaries if s.errors}, bool(inventory.errors)),
        group_tags,
    )
    findings = with_tag_values(findings, options.tag_names, group_tags)
    metadata = ScanMetadata(
        __version__,
        options.ruleset,
        started,
        options.now(),
        options.source,
        (*options.scope.subscriptions, *(f"{MANAGEMENT_GROUP_PREFIX}{g}" for g in options.scope.management_groups)),
        inventory.errors,
        options.provenance,
        options.portal,
        options.tag_names,
    )
    drift = compare(options.baseline, findings, summaries) if options.baseline else None
    result = ScanResult(metadata, findings, summaries, drift, exceptions=exceptions)
    return replace(result, trend=trend(options.history, result)) if options.history else result


class HistoryNotKept(OSError):
    """The reports were written, but this run's scan.json could not be kept in the --history folder."""

    def __init__(self, folder: Path, err: OSError) -> None:
        super().__init__(err.errno, err.strerror or str(err))
        self.folder = folder


def write_scan(result: ScanResult, out: Path, formats: Sequence[Format], history: Path | None = None) -> list[Path]:
    """The reports in `out`, and this run's scan.json kept in `history`; raises OSError when the reports cannot be
    written, HistoryNotKept when they were but the history could not be kept."""
    # The result outlives its reports: kept out of the garbage collector's full passes, which the reports' many
    # short-lived objects set off and which would walk a million findings each time (as `classify` does).
    gc.freeze()
    try:
        written = write_reports(out, (formatter_for(fmt).format(result) for fmt in formats), report_names())
    finally:
        gc.unfreeze()
    if history:  # the scan.json just written, or, when the formats left it out, rendered for the history
        chunks = copied(out / "scan.json") if Format.JSON in formats else JsonFormatter().format(result)["scan.json"]
        try:
            keep(history, result, chunks)
        except OSError as err:
            raise HistoryNotKept(history, err) from err
    return written


def unused_config_lines(config: AuditConfig, result: ScanResult, path: Path | None) -> list[str]:
    """A config entry for a subscription the audit did not see is most likely a typo in an id (an exemption that
    would silently not apply): one line per entry. Entries outside a --subscription scope are not used by
    design."""
    if result.metadata.tenant_errors and not result.subscriptions:
        return []  # nothing was listed: the failure is said already
    seen = {item.subscription.subscription_id for item in result.subscriptions}
    wanted = set(result.metadata.scope)
    return [
        f'{path}: [subscriptions."{subscription_id}"] names a subscription that is not in the tenant\'s '
        "subscription list; its facts were not used (a typo in the id?)"
        for subscription_id in sorted(config.subscriptions)
        if subscription_id not in seen and (not wanted or subscription_id in wanted)
    ]


def exit_status(result: ScanResult, fail_on: Collection[Verdict]) -> ExitStatus:
    """69 when nothing could be audited; 1 when the gate trips (it wins over 2: the reports still mark what could
    not be read), else 2 or 0."""
    if result.nothing_audited:
        return ExitStatus.NOTHING_AUDITED
    tripped = any(f.verdict in fail_on and not f.accepted for f in result.findings)
    if tripped or (result.drift and result.drift.new_exposure):
        return ExitStatus.FINDINGS
    return ExitStatus.SUCCESS if result.complete else ExitStatus.INCOMPLETE


def status_lines(result: ScanResult, fail_on: Collection[Verdict], auth: Auth = Auth.DEFAULT) -> list[str]:
    """What the user is told about the run's end: what could not be read, and why the gate tripped."""
    lines = [_tenant_error_line(error, auth) for error in result.metadata.tenant_errors]
    unreadable = [s for s in result.subscriptions if s.errors]
    # the subscription list could not be read at all (not: some of its items could not be understood)
    list_failed = [
        e
        for e in result.metadata.tenant_errors
        if e.operation == SUBSCRIPTION_LIST and e.code != ErrorCode.MALFORMED_ITEM
    ]
    if result.nothing_audited:
        lines.append(
            "nothing was audited, so no report was written: the reports in --out are left as they were."
            if result.metadata.tenant_errors
            else "nothing was audited: the identity sees no subscription (give it Reader on one, or check --tenant "
            "and --subscription); the reports in --out are left as they were."
        )
    elif not result.complete and list_failed and not unreadable:
        lines.append(
            "the audit is INCOMPLETE: nothing was audited; the reports are written, empty, and say why "
            "(scan.json, scan.errors)."
        )
    elif not result.complete and unreadable:
        lists = sum(len(s.errors) for s in unreadable) + len(result.metadata.tenant_errors)
        lines.append(
            f"the audit is INCOMPLETE: {lists} list(s) in {len(unreadable)} subscription(s) could not be read; "
            "they are marked in the reports (subscriptions.csv, column collection)."
        )
    elif not result.complete:
        lines.append(
            f"the audit is INCOMPLETE: {len(result.metadata.tenant_errors)} read(s) above the subscriptions could "
            "not be read (said above); the reports say so (scan.json, scan.errors)."
        )
    lines += exception_lines(result)
    failing = [f for f in result.findings if f.verdict in fail_on]
    tripped = [f for f in failing if not f.accepted]
    if tripped:
        verdicts = ", ".join(sorted({f.verdict.value for f in tripped}))
        passed = len(failing) - len(tripped)
        also = f" ({passed} more accepted by exceptions, passed over)" if passed else ""
        lines.append(f"--fail-on: {len(tripped)} resource(s) with verdict {verdicts}{also}.")
    exposure = result.drift.new_exposure if result.drift else ()
    if exposure:
        names = ", ".join(c.resource_name for c in exposure[:5]) + (" …" if len(exposure) > 5 else "")
        lines.append(f"new exposure since the baseline: {len(exposure)} resource(s) now open ({names}).")
    return lines


def exception_lines(result: ScanResult) -> list[str]:
    """What the run says of the exceptions register: entries that expired, and stale ones (never kept silently)."""
    lines = []
    expired: dict[int, list[str]] = {}  # each expired entry's resources, in one pass over the findings
    if result.exceptions.expired:
        for finding in result.findings:
            if finding.exception is not None and not finding.exception.accepted:
                expired.setdefault(finding.exception.exception.number, []).append(finding.resource.name)
    for entry in result.exceptions.expired:
        names = expired.get(entry.number, [])
        shown = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
        lines.append(
            f"exception at {entry.where} (owner {entry.owner}{_ticket(entry)}) expired on {entry.expires.isoformat()}: "
            f"{len(names)} resource(s) it accepted count again ({shown})."
        )
    for stale in result.exceptions.stale:
        entry = stale.exception
        head = f"exception at {entry.where} ({entry.selector}; owner {entry.owner}{_ticket(entry)}) is stale: "
        if stale.why is StaleWhy.VERDICT_GONE:
            accepted = ", ".join(sorted(v.value for v in entry.verdicts))
            now = ", ".join(v.value for v in stale.verdicts_now)
            lines.append(f"{head}its resources are now {now}, not {accepted}; remove it or change its verdict.")
        elif stale.why is StaleWhy.UNCHECKED:
            lines.append(
                f"exception at {entry.where} ({entry.selector}) matches no resource read; a list where its resources "
                "may be could not be read, so whether it is stale is not known."
            )
        else:
            lines.append(f"{head}it matches no audited resource; remove it, or correct what it matches.")
    return lines


def _ticket(entry: AcceptedException) -> str:
    return f", {entry.ticket}" if entry.ticket else ""


def _tenant_error_line(error: CollectionError, auth: Auth) -> str:
    code, message = error.code, error.message
    shown = message if len(message) <= 300 else message[:297] + "..."
    group = group_of(error.operation)
    if group is not None and code == ErrorCode.MALFORMED_ITEM:
        return f"management group {group}: {shown}"
    if group is not None:
        status = f"HTTP {error.status} " if error.status is not None else ""
        return (
            f"management group {group} could not be read ({status}{code}), so its subscriptions were not audited: "
            f"{shown} (the identity needs Management Group Reader, or Reader, on it)"
        )
    if code == ErrorCode.MALFORMED_ITEM:
        return f"the subscription list: {shown}"
    if code == ErrorCode.SIGN_IN_FAILED:
        said = message.rstrip(".")
        tried = "" if "(tried " in said else f" (tried {TRIED[auth]})"
        return f"could not sign in, so no subscription was audited: {said}{tried}. To fix: {ADVICE[auth]}."
    status = f"HTTP {error.status} " if error.status is not None else ""
    said = f"{status}{code}: " if status or code else ""
    return (
        f"the subscription list could not be read, so no subscription was audited: {said}{shown} "
        "(sign in with az login, or give the identity Reader on the subscriptions)"
    )
