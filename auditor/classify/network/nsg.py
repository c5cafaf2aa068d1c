"""Network security groups: which outbound rule decides TCP to an arbitrary internet address on a port, for a
sender (Azure's NSG processing: rules by priority, first match wins, defaults last).

The question is about TCP to an arbitrary public internet address. Rules whose destination covers only part of
public space (a service tag other than Internet, a prefix list that does not cover it) do not decide it; the
decision names them. Rules whose match cannot be known (application security groups) make the result uncertain
when they disagree with the rule that decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from itertools import groupby

from auditor.classify.addresses import (
    SMTP_PORT,
    Match,
    covered,
    ephemeral_source_match,
    networks,
    parsed_prefixes,
    port_matches,
    public_coverage,
)
from auditor.classify.listing import capped
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


def fixed_match(rule: SecurityRule, port: int = SMTP_PORT) -> Match:
    """What of a rule does not depend on the sender: direction, protocol, port and destination."""
    if rule.direction.lower() != "outbound" or rule.protocol.lower() not in ("tcp", "*", "any"):
        return Match.NO
    if not port_matches(rule.destination_ports, port):
        return Match.NO
    client_port = ephemeral_source_match(rule.source_ports)
    if client_port is Match.NO:
        return Match.NO
    return min(destination_match(rule), client_port, key=lambda m: m.value)


def rule_match(
    fixed: Match, rule: SecurityRule, sender: Sequence[IPv4Network] | None, asgs: frozenset[str] | None = None
) -> Match:
    """A rule's match for a sender, given its `fixed_match`."""
    if fixed is Match.NO:
        return Match.NO
    origin = source_match(rule, sender, asgs)
    if origin is Match.NO:
        return Match.NO
    return min(fixed, origin, key=lambda m: m.value)


# An NSG's outbound rules that can match on one port, by priority, each with its fixed match: sorted and matched
# once per NSG and port.
CompiledNsg = tuple[tuple[int, tuple[tuple[SecurityRule, Match], ...]], ...]


def compile_nsg(nsg: NetworkSecurityGroup, port: int = SMTP_PORT) -> CompiledNsg:
    """Outbound rules in priority order, defaults included (and supplied if the data lacks them)."""
    rules = [r for r in nsg.rules if r.direction.lower() == "outbound"]
    if not any(r.is_default for r in rules):
        rules += DEFAULT_OUTBOUND_RULES
    matched = [(rule, fixed) for rule in rules if (fixed := fixed_match(rule, port)) is not Match.NO]
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

    def said(self, nsg: NetworkSecurityGroup, level: str) -> str:
        """The decision as a step of a path through the NIC's or the subnet's NSG (`level`)."""
        notes = capped(self.notes, "rules that cover only some destinations")
        return f"{self.describe(nsg)} (on the {level})" + "".join(f"; {n}" for n in notes)

    def describe(self, nsg: NetworkSecurityGroup) -> str:
        if self.rule is None:
            return f"NSG {nsg.name}: " + "; ".join(capped(self.notes, "rules that cover only some destinations"))
        verb = "allows" if self.allowed else "denies"
        kind = "default rule" if self.rule.is_default else "rule"
        return (
            f"NSG {nsg.name} {kind} {self.rule.name} (priority {self.rule.priority}) {verb} TCP {self.port} "
            "to the internet"
        )


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
    first match wins."""
    notes: list[str] = []
    pending: list[SecurityRule] = []
    sender = networks(source)  # parsed once for every rule
    for priority, group in compiled:
        tied = [rule for rule, _ in group]
        matches = {rule.name: rule_match(fixed, rule, sender, asgs) for rule, fixed in group}
        certain = [r for r in tied if matches[r.name] is Match.YES]
        for rule in tied:
            if matches[rule.name] is Match.PARTIAL:
                notes.append(
                    f"rule {_label(rule)} covers only some public destinations "
                    f"({', '.join(capped(rule.destination_prefixes, 'prefixes'))}): not counted for the internet at "
                    "large"
                )
        pending += [r for r in tied if matches[r.name] is Match.UNCERTAIN]
        if not certain:
            continue
        accesses = {r.access.strip().lower() for r in certain}
        if not accesses <= {"allow", "deny"}:
            odd = [r for r in certain if r.access.strip().lower() not in ("allow", "deny")]
            return NsgDecision(
                None,
                None,
                (f"rule {_label(odd[0])} has an access value Azure does not document (Allow or Deny)", *notes),
                port,
            )
        if len(accesses) > 1:
            return NsgDecision(
                None,
                None,
                (
                    f"rules {', '.join(capped([_label(r) for r in certain], 'rules'))} share priority {priority} and "
                    "disagree (Azure does not allow two rules of one priority)",
                    *notes,
                ),
                port,
            )
        allowed = accesses == {"allow"}
        doubtful = [r for r in pending if (r.access.lower() == "allow") != allowed]
        if doubtful:
            return NsgDecision(
                None,
                None,
                (
                    f"rule(s) {', '.join(capped([_label(r) for r in doubtful], 'rules'))} may apply (application "
                    f"security group or a source that only partly covers the resource) before {_label(certain[0])}",
                    *notes,
                ),
                port,
            )
        return NsgDecision(allowed, certain[0], tuple(notes), port)
    return NsgDecision(None, None, ("no outbound rule matched", *notes), port)
