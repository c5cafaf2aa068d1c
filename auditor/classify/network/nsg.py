"""Network security groups: which outbound rule decides TCP to an arbitrary internet address on a port, for a
sender (Azure's NSG processing: rules by priority, first match wins, defaults last).

The question is about TCP to the internet. A rule whose destination covers only part of public space (a service
tag other than Internet, a prefix list that does not cover it) does not decide for the internet at large; but an
allow that surely applies lets TCP out to those public destinations, and mail sent there leaves Azure on the port
like any other: where the internet at large is denied, the decision allows "only to" them. Private destinations
alone are not the internet. Rules whose match cannot be known (application security groups, source prefixes that
only partly cover the sender) make the result uncertain when they would change it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from itertools import groupby
from typing import NamedTuple

from auditor.classify.addresses import (
    SMTP_PORT,
    Match,
    covered,
    ephemeral_source_match,
    networks,
    parsed_prefixes,
    port_matches,
    public_coverage,
    public_destinations,
    reachable_destinations,
)
from auditor.classify.listing import capped
from auditor.classify.network.path import EVERY_DESTINATION, Destinations
from auditor.model import NetworkSecurityGroup, SecurityRule

INTERNET_WORDS = frozenset({"*", "any", "internet", "0.0.0.0/0"})
ANY_SOURCE_WORDS = frozenset({"*", "any", "virtualnetwork"})
DEFAULT_OUTBOUND_RULES = (
    SecurityRule(
        "AllowVnetOutBound",
        65000,
        "Outbound",
        "Allow",
        "*",
        ("VirtualNetwork",),
        ("VirtualNetwork",),
        ("*",),
        is_default=True,
    ),
    SecurityRule(
        "AllowInternetOutBound", 65001, "Outbound", "Allow", "*", ("*",), ("Internet",), ("*",), is_default=True
    ),
    SecurityRule("DenyAllOutBound", 65500, "Outbound", "Deny", "*", ("*",), ("*",), ("*",), is_default=True),
)


def destination_match(rule: SecurityRule) -> Match:
    """Does the rule's destination contain an arbitrary public internet address?"""
    if rule.destination_asgs:
        return Match.NO  # application security groups hold NICs, not internet addresses
    words = {p.strip().lower() for p in rule.destination_prefixes}
    if words & INTERNET_WORDS:
        return Match.YES
    if networks(rule.destination_prefixes) is None:
        tags = {p for p in rule.destination_prefixes if networks([p]) is None}
        return Match.NO if {t.lower() for t in tags} <= {"virtualnetwork", "azureloadbalancer"} else Match.PARTIAL
    return public_coverage(rule.destination_prefixes)


def source_match(rule: SecurityRule, sender: Sequence[IPv4Network] | None, asgs: frozenset[str] | None = None) -> Match:
    """Does the rule's source contain the resource (its private address, or its whole subnet, parsed; the
    application security groups its NIC's IP configuration is in, None where that is not known)?"""
    if rule.source_asgs:
        # "Application security groups": a rule naming one as source applies to the NICs in it, and only to them
        if asgs is None or not rule.source_asg_ids:
            return Match.UNCERTAIN
        return Match.YES if asgs & set(rule.source_asg_ids) else Match.NO
    if {p.strip().lower() for p in rule.source_prefixes} & ANY_SOURCE_WORDS:
        return Match.YES
    return covered(parsed_prefixes(tuple(rule.source_prefixes)), sender)


class RuleMatch(NamedTuple):
    """How a rule matches TCP on a port to the internet: its destination (YES: any internet address; PARTIAL: some
    public ones) and whether it applies to the sender (YES, or UNCERTAIN); NO in either: it does not match."""

    destination: Match
    applies: Match

    @property
    def matches(self) -> bool:
        return self.destination is not Match.NO and self.applies is not Match.NO


NO_MATCH = RuleMatch(Match.NO, Match.NO)


def fixed_match(rule: SecurityRule, port: int = SMTP_PORT) -> RuleMatch:
    """What of a rule does not depend on the sender: direction, protocol, port, the client's source port and the
    destination."""
    if rule.direction.lower() != "outbound" or rule.protocol.lower() not in ("tcp", "*", "any"):
        return NO_MATCH
    if not port_matches(rule.destination_ports, port):
        return NO_MATCH
    return RuleMatch(destination_match(rule), ephemeral_source_match(rule.source_ports))


def rule_match(
    fixed: RuleMatch, rule: SecurityRule, sender: Sequence[IPv4Network] | None, asgs: frozenset[str] | None = None
) -> RuleMatch:
    """A rule's match for a sender, given its `fixed_match`."""
    if not fixed.matches:
        return NO_MATCH
    origin = source_match(rule, sender, asgs)
    if origin is Match.NO:
        return NO_MATCH
    return RuleMatch(fixed.destination, min(fixed.applies, origin, key=lambda m: m.value))


# An NSG's outbound rules that can match on one port, by priority, each with its fixed match: sorted and matched
# once per NSG and port.
CompiledNsg = tuple[tuple[int, tuple[tuple[SecurityRule, RuleMatch], ...]], ...]


def compile_nsg(nsg: NetworkSecurityGroup, port: int = SMTP_PORT) -> CompiledNsg:
    """Outbound rules in priority order, defaults included (and supplied if the data lacks them)."""
    rules = [r for r in nsg.rules if r.direction.lower() == "outbound"]
    if not any(r.is_default for r in rules):
        rules += DEFAULT_OUTBOUND_RULES
    matched = [(rule, fixed) for rule in rules if (fixed := fixed_match(rule, port)).matches]
    # a rule that cannot match whatever the sender (another port, protocol, destination) is left out: it neither
    # decides nor ties
    return tuple(
        (priority, tuple(group))
        for priority, group in groupby(sorted(matched, key=lambda m: m[0].priority), key=lambda m: m[0].priority)
    )


@dataclass(frozen=True)
class NsgDecision:
    allowed: bool | None  # None: cannot be known
    rule: SecurityRule | None
    notes: tuple[str, ...] = ()

    port: int = SMTP_PORT
    # allowed only to these public destinations (as the allowing rules name them): the rest is denied by `rest`
    destinations: Destinations = EVERY_DESTINATION
    rest: SecurityRule | None = None

    def said(self, nsg: NetworkSecurityGroup, level: str) -> str:
        """The decision as a step of a path through the NIC's or the subnet's NSG (`level`)."""
        notes = capped(self.notes, "rules that cover only some destinations")
        return f"{self.describe(nsg)} (on the {level})" + "".join(f"; {n}" for n in notes)

    def describe(self, nsg: NetworkSecurityGroup) -> str:
        if self.rule is None:
            return f"NSG {nsg.name}: " + "; ".join(capped(self.notes, "rules that cover only some destinations"))
        verb = "allows" if self.allowed else "denies"
        kind = "default rule" if self.rule.is_default else "rule"
        said = f"NSG {nsg.name} {kind} {self.rule.name} (priority {self.rule.priority}) {verb} TCP {self.port} "
        if not self.destinations:
            return said + "to the internet"
        rest = f", {_label(self.rest)} denies the rest of the internet" if self.rest is not None else ""
        return said + self.destinations.text() + rest


def same_for_every_sender_in(compiled: CompiledNsg, prefixes: Sequence[str]) -> bool:
    """Whether every sender in these prefixes (a subnet's) gets the same decision: each rule that names source
    prefixes holds them whole or none of them, and none names application security groups (which NICs are in
    them is each NIC's own)."""
    subnet = networks(prefixes)
    return not any(
        rule.source_asgs or source_match(rule, subnet) is Match.UNCERTAIN for _, group in compiled for rule, _ in group
    )


def _label(rule: SecurityRule) -> str:
    return f"{rule.name} (priority {rule.priority}, {rule.access})"


def decide_nsg(
    compiled: CompiledNsg, source: Sequence[str], port: int = SMTP_PORT, asgs: frozenset[str] | None = None
) -> NsgDecision:
    """A compiled NSG's decision for a sender (its addresses, and its application security groups where known):
    first match wins; allows to some public destinations before it let TCP out to those."""
    seen = _Seen()
    sender = networks(source)  # parsed once for every rule
    for priority, group in compiled:
        matched = [(rule, m) for rule, fixed in group if (m := rule_match(fixed, rule, sender, asgs)).matches]
        certain = [r for r, m in matched if m == (Match.YES, Match.YES)]
        for rule, match in matched:
            seen.met(rule, match)
        if not certain:
            continue
        accesses = {r.access.strip().lower() for r in certain}
        if not accesses <= {"allow", "deny"}:
            odd = [r for r in certain if r.access.strip().lower() not in ("allow", "deny")]
            odd_access = f"rule {_label(odd[0])} has an access value Azure does not document (Allow or Deny)"
            return seen.unknown(odd_access, port)
        if len(accesses) > 1:
            return seen.unknown(
                f"rules {', '.join(capped([_label(r) for r in certain], 'rules'))} share priority {priority} and "
                "disagree (Azure does not allow two rules of one priority)",
                port,
            )
        return seen.decided(accesses == {"allow"}, certain[0], port)
    return seen.decided(None, None, port)


@dataclass
class _Seen:
    """What the rules before the deciding one said: allows to some public destinations (sure, or that may apply),
    denies of some, and rules for the internet that may apply."""

    notes: list[str]
    pending: list[SecurityRule]  # rules for the internet at large that may apply
    partial_allows: list[tuple[SecurityRule, tuple[str, ...]]]  # sure allows, with the destinations they reach
    doubtful_allows: list[SecurityRule]  # allows to some public destinations that may apply
    denied: list[str]  # the public destinations surely denied so far

    def __init__(self) -> None:
        self.notes, self.pending, self.partial_allows, self.doubtful_allows, self.denied = [], [], [], [], []

    def met(self, rule: SecurityRule, match: RuleMatch) -> None:
        allow = rule.access.strip().lower() == "allow"
        if match.destination is Match.YES:
            if match.applies is Match.UNCERTAIN:
                self.pending.append(rule)
            return
        named = public_destinations(rule.destination_prefixes)
        if match.applies is not Match.YES:
            if allow:
                self.doubtful_allows.append(rule)
        elif allow:
            reached = reachable_destinations(named, self.denied)
            if reached:
                self.partial_allows.append((rule, reached))
        else:
            self.denied += named
            self.notes.append(
                f"rule {_label(rule)} denies only some public destinations ({', '.join(capped(named, 'prefixes'))}): "
                "not counted for the internet at large"
            )

    def unknown(self, why: str, port: int) -> NsgDecision:
        return NsgDecision(None, None, (why, *self.notes), port)

    def decided(self, allowed: bool | None, rule: SecurityRule | None, port: int) -> NsgDecision:
        """The decision of `rule` for the internet at large (None: no rule matched), with what came before it."""
        doubtful = [r for r in self.pending if (r.access.strip().lower() == "allow") != allowed]
        if rule is not None and doubtful:
            return self.unknown(
                f"rule(s) {', '.join(capped([_label(r) for r in doubtful], 'rules'))} may apply (application "
                f"security group or a source that only partly covers the resource) before {_label(rule)}",
                port,
            )
        if allowed or not (self.partial_allows or self.doubtful_allows):
            if rule is None:
                return self.unknown("no outbound rule matched", port)
            return NsgDecision(allowed, rule, tuple(self.notes), port)
        if not self.partial_allows:
            names = ", ".join(capped([_label(r) for r in self.doubtful_allows], "rules"))
            return self.unknown(
                f"rule(s) {names} may allow TCP {port} to some public destinations (application security group or "
                "a source that only partly covers the resource)",
                port,
            )
        reached = Destinations.of([d for _, destinations in self.partial_allows for d in destinations])
        return NsgDecision(True, self.partial_allows[0][0], tuple(self.notes), port, reached, rule)
