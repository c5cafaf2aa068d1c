"""The exceptions register: which entry of the audit config accepts each finding's verdict, and until when.

An exception never changes a verdict. It marks the finding `accepted` (the gates pass it over) until the day it
expires, then `expired` (it counts as none, and the run says so). An entry that matches no audited resource, or
whose resources no longer have a verdict it accepts, is stale: the run says so, it is never silently kept.

Entries are indexed by what fixes their subscription (a `subscription` selector, or a glob whose fixed start names
one) and by resource group, so a million findings against a thousand entries test each finding against the few
entries that can match it, in the register's order.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import NamedTuple

from auditor.model import (
    AcceptedException,
    ExceptionMatch,
    ExceptionsOutcome,
    ExceptionState,
    Finding,
    Resource,
    StaleException,
    StaleWhy,
    Verdict,
)

_SUBSCRIPTION_IN_GLOB = re.compile(r"^/subscriptions/([0-9a-f-]{36})/", re.IGNORECASE)


class Register:
    def __init__(self, exceptions: Sequence[AcceptedException]) -> None:
        self._by_subscription: dict[str, list[AcceptedException]] = {}
        self._by_group: dict[str, list[AcceptedException]] = {}
        self._anywhere: list[AcceptedException] = []
        self._globs: dict[int, re.Pattern[str]] = {}
        for entry in exceptions:
            if entry.match:
                self._globs[entry.number] = re.compile(fnmatch.translate(entry.match.lower()), re.DOTALL)
            subscription = entry.subscription or _glob_subscription(entry.match)
            if subscription:
                self._by_subscription.setdefault(subscription, []).append(entry)
            elif entry.resource_group:
                self._by_group.setdefault(entry.resource_group, []).append(entry)
            else:
                self._anywhere.append(entry)

    def scoped_to(self, entry: AcceptedException) -> str:
        """The subscription an entry can only match in ("" where it can match in any)."""
        return entry.subscription or _glob_subscription(entry.match)

    def matching(self, resource: Resource, group_tags: Iterable[tuple[str, str]] = ()) -> list[AcceptedException]:
        """The entries whose every selector holds for the resource, in the register's order."""
        candidates = [
            *self._by_subscription.get(resource.subscription_id.lower(), ()),
            *self._by_group.get(resource.resource_group.lower(), ()),
            *self._anywhere,
        ]
        if not candidates:
            return []
        found = [entry for entry in candidates if self._holds(entry, resource, group_tags)]
        return sorted(found, key=lambda e: e.number) if len(found) > 1 else found

    def _holds(self, entry: AcceptedException, resource: Resource, group_tags: Iterable[tuple[str, str]]) -> bool:
        if entry.subscription and entry.subscription != resource.subscription_id.lower():
            return False
        if entry.resource_group and entry.resource_group != resource.resource_group.lower():
            return False
        if entry.match and not self._globs[entry.number].match(resource.resource_id.lower()):
            return False
        if entry.tag is not None:
            name, value = entry.tag
            # the resource's own tag, else its resource group's (Azure does not inherit tags; owners tag groups)
            own = {k.lower(): v for k, v in resource.tags}
            carried = own[name] if name in own else dict(group_tags).get(name)
            if carried != value:
                return False
        return True


def _glob_subscription(glob: str) -> str:
    found = _SUBSCRIPTION_IN_GLOB.match(glob)
    return found.group(1).lower() if found else ""


class ReadGaps(NamedTuple):
    """Where an entry that matches nothing may still have resources: subscriptions with a list that could not be
    read, or (`tenant`) any, when a read above the subscriptions failed and some may not have been audited."""

    subscriptions: Collection[str] = ()
    tenant: bool = False


NO_GAPS = ReadGaps()


def with_exceptions(
    findings: Sequence[Finding],
    exceptions: Sequence[AcceptedException],
    today: dt.date,
    gaps: ReadGaps = NO_GAPS,
    group_tags: dict[tuple[str, str], tuple[tuple[str, str], ...]] | None = None,
) -> tuple[tuple[Finding, ...], ExceptionsOutcome]:
    """The findings, each with the entry that accepts its verdict (accepted until `today` passes its expiry, then
    expired); and the entries that expired or are stale. An entry that matches nothing where `gaps` says a list
    could not be read is not known to be stale. `group_tags`: each resource group's tags, by
    (subscription id, group name), lower case."""
    if not exceptions:
        return tuple(findings), ExceptionsOutcome()
    register = Register(exceptions)
    accepting: set[int] = set()
    verdicts_seen: dict[int, set[Verdict]] = {}
    expired: dict[int, AcceptedException] = {}
    out: list[Finding] = []
    tags_of = group_tags or {}
    for finding in findings:
        resource = finding.resource
        entries = register.matching(
            resource, tags_of.get((resource.subscription_id.lower(), resource.resource_group.lower()), ())
        )
        if not entries:
            out.append(finding)
            continue
        chosen = None
        for entry in entries:
            verdicts_seen.setdefault(entry.number, set()).add(finding.verdict)
            if chosen is None and finding.verdict in entry.verdicts:
                chosen = entry
        if chosen is None:
            out.append(finding)
            continue
        accepting.add(chosen.number)
        state = ExceptionState.ACCEPTED if today <= chosen.expires else ExceptionState.EXPIRED
        if state is ExceptionState.EXPIRED:
            expired[chosen.number] = chosen
        out.append(replace(finding, exception=ExceptionMatch(chosen, state)))
    stale = _stale(register, exceptions, accepting, verdicts_seen, gaps)
    return tuple(out), ExceptionsOutcome(tuple(expired[n] for n in sorted(expired)), stale)


def _stale(
    register: Register,
    exceptions: Sequence[AcceptedException],
    accepting: set[int],
    verdicts_seen: dict[int, set[Verdict]],
    gaps: ReadGaps,
) -> tuple[StaleException, ...]:
    """The entries that accept no finding's verdict: matching resources whose verdicts changed, matching nothing,
    or matching nothing read where their resources may be in a list that could not be read."""
    stale: list[StaleException] = []
    unread = {s.lower() for s in gaps.subscriptions}
    for entry in exceptions:
        if entry.number in accepting:
            continue
        if entry.number in verdicts_seen:
            now = tuple(sorted(verdicts_seen[entry.number], key=list(Verdict).index))
            stale.append(StaleException(entry, StaleWhy.VERDICT_GONE, now))
            continue
        scope = register.scoped_to(entry)
        unchecked = gaps.tenant or (scope in unread if scope else bool(unread))
        stale.append(StaleException(entry, StaleWhy.UNCHECKED if unchecked else StaleWhy.MATCHES_NOTHING))
    return tuple(stale)
