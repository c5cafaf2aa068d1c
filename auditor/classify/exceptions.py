"""The exceptions register: which entry of the audit config accepts each finding's verdict, and until when.

An exception never changes a verdict. It marks the finding `accepted` (the gates pass it over) until the day it
expires, then `expired` (it counts as none, and the run says so). An entry that matches no audited resource, or
whose resources no longer have a verdict it accepts, is stale: the run says so, it is never silently kept.

Each entry finds its findings (see `Register`), so a million findings against a thousand entries cost a sort and
a few lookups an entry; a finding takes the first entry, in the register's order, that accepts its verdict.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import gc
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Collection, Sequence
from operator import attrgetter
from typing import NamedTuple

from auditor.classify.tags import GroupTags, carried_tags
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
    glob_start,
)

_SUBSCRIPTION_IN_GLOB = re.compile(r"^/subscriptions/([0-9a-f-]{36})/", re.IGNORECASE)
_RESOURCE = attrgetter("resource")
_SUBSCRIPTION = attrgetter("subscription_id")


class Register:
    """The findings each entry matches, found from the entries' side: a glob looks up the ids that begin with its
    fixed start (bisecting its subscription's sorted ids, or every id where the glob fixes none), a subscription
    takes its findings, a resource group or a tag its own. A million findings cost a sort of the ids globs ask
    for, and a thousand entries a few lookups each, not a thousand tests a finding."""

    def __init__(self, findings: Sequence[Finding], group_tags: GroupTags):
        self._group_tags = group_tags
        self._resources: list[Resource] = list(map(_RESOURCE, findings))
        by_subscription: defaultdict[str, list[int]] = defaultdict(list)
        for index, subscription in enumerate(map(_SUBSCRIPTION, self._resources)):
            by_subscription[subscription].append(index)
        self._by_subscription = {key.lower(): value for key, value in by_subscription.items()}
        self._sorted_ids: dict[str, tuple[list[str], list[int]]] = {}  # a subscription's, sorted when a glob asks
        self._everything: tuple[list[str], list[int]] | None = None
        self._by_group: dict[str, list[int]] | None = None
        self._by_tag: dict[tuple[str, str], list[int]] | None = None

    def matched(self, entry: AcceptedException) -> list[int]:
        """The indexes of the findings every selector of the entry holds for."""
        if entry.match:
            candidates = self._globbed(entry.match.lower())
        elif entry.subscription:
            candidates = self._by_subscription.get(entry.subscription, [])
        elif entry.resource_group:
            candidates = self._groups().get(entry.resource_group, [])
        else:
            assert entry.tag is not None  # the config requires a selector
            candidates = self._tags().get(entry.tag, [])
        return [index for index in candidates if self._holds(entry, self._resources[index])]

    def _globbed(self, pattern: str) -> list[int]:
        start = glob_start(pattern)
        subscription = _glob_subscription(pattern)
        ids, indexes = self._ids(subscription) if subscription else self._all_ids()
        # "fixed start*", the common glob, needs no pattern: beginning with the start is matching it
        glob = None if pattern in (start, start + "*") else re.compile(fnmatch.translate(pattern), re.DOTALL)
        found = []
        at = bisect_left(ids, start)
        while at < len(ids) and ids[at].startswith(start):
            if glob.match(ids[at]) if glob is not None else pattern != start or ids[at] == start:
                found.append(indexes[at])
            at += 1
        return found

    def _ids(self, subscription: str) -> tuple[list[str], list[int]]:
        ids = self._sorted_ids.get(subscription)
        if ids is None:
            ids = self._sorted_ids[subscription] = self._sorted(self._by_subscription.get(subscription, []))
        return ids

    def _all_ids(self) -> tuple[list[str], list[int]]:
        if self._everything is None:
            self._everything = self._sorted(list(range(len(self._resources))))
        return self._everything

    def _sorted(self, indexes: list[int]) -> tuple[list[str], list[int]]:
        """The resources' ids, lower case and sorted, and their findings' indexes in the same order."""
        resources = self._resources
        ids = [resources[index].resource_id.lower() for index in indexes]
        order = sorted(range(len(ids)), key=ids.__getitem__)
        return [ids[at] for at in order], [indexes[at] for at in order]

    def _groups(self) -> dict[str, list[int]]:
        if self._by_group is None:
            self._by_group = defaultdict(list)
            for index, resource in enumerate(self._resources):
                self._by_group[resource.resource_group.lower()].append(index)
        return self._by_group

    def _tags(self) -> dict[tuple[str, str], list[int]]:
        """Each finding under each tag it carries, its own or else its resource group's (Azure does not pass a
        group's tags on to its resources; owners often tag the group)."""
        if self._by_tag is None:
            self._by_tag = defaultdict(list)
            grouped = self._group_tags
            for index, resource in enumerate(self._resources):
                if resource.tags or grouped:
                    for tag in self._carried(resource).items():
                        self._by_tag[tag].append(index)
        return self._by_tag

    def _carried(self, resource: Resource) -> dict[str, str]:
        return {name: value for name, (_, value) in carried_tags(resource, self._group_tags).items()}

    def _holds(self, entry: AcceptedException, resource: Resource) -> bool:
        if entry.subscription and entry.subscription != resource.subscription_id.lower():
            return False
        if entry.resource_group and entry.resource_group != resource.resource_group.lower():
            return False
        # a glob was matched when the candidates were found
        return entry.tag is None or self._carried(resource).get(entry.tag[0]) == entry.tag[1]


def scoped_to(entry: AcceptedException) -> str:
    """The subscription an entry can only match in ("" where it can match in any)."""
    return entry.subscription or _glob_subscription(entry.match)


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
    group_tags: GroupTags | None = None,
) -> tuple[tuple[Finding, ...], ExceptionsOutcome]:
    """The findings, each with the entry that accepts its verdict (accepted until `today` passes its expiry, then
    expired); and the entries that expired or are stale. An entry that matches nothing where `gaps` says a list
    could not be read is not known to be stale. `group_tags`: each resource group's tags, by
    (subscription id, group name), lower case."""
    if not exceptions:
        return tuple(findings), ExceptionsOutcome()
    # The index's million tuples would set the garbage collector off again and again, each pass walking every
    # finding (2 s at a million, 0.7 s without): nothing made here holds a cycle, so it waits until the end.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _applied(findings, exceptions, today, gaps, group_tags or {})
    finally:
        if enabled:
            gc.enable()


def _applied(
    findings: Sequence[Finding],
    exceptions: Sequence[AcceptedException],
    today: dt.date,
    gaps: ReadGaps,
    group_tags: GroupTags,
) -> tuple[tuple[Finding, ...], ExceptionsOutcome]:
    register = Register(findings, group_tags)
    # each finding's entries, in the register's order
    entries_of: defaultdict[int, list[AcceptedException]] = defaultdict(list)
    for entry in exceptions:
        for index in register.matched(entry):
            entries_of[index].append(entry)
    verdicts_seen: defaultdict[int, set[Verdict]] = defaultdict(set)
    matches: dict[int, ExceptionMatch] = {}  # one an entry, shared by the findings it accepts
    out = list(findings)
    for index, entries in entries_of.items():
        finding = findings[index]
        chosen = None
        for entry in entries:
            verdicts_seen[entry.number].add(finding.verdict)
            if chosen is None and finding.verdict in entry.verdicts:
                chosen = entry
        if chosen is None:
            continue
        match = matches.get(chosen.number)
        if match is None:
            state = ExceptionState.ACCEPTED if today <= chosen.expires else ExceptionState.EXPIRED
            match = matches[chosen.number] = ExceptionMatch(chosen, state)
        out[index] = finding.with_exception(match)
    expired = [m.exception for n, m in sorted(matches.items()) if not m.accepted]
    stale = _stale(exceptions, set(matches), verdicts_seen, gaps)
    return tuple(out), ExceptionsOutcome(tuple(expired), stale)


def _stale(
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
        scope = scoped_to(entry)
        unchecked = gaps.tenant or (scope in unread if scope else bool(unread))
        stale.append(StaleException(entry, StaleWhy.UNCHECKED if unchecked else StaleWhy.MATCHES_NOTHING))
    return tuple(stale)
