"""Deciding once what many senders share: an NSG's or a firewall's rules decided once per port when they never
look at the sender, once per subnet when the rules that do hold the subnet whole or not at all, else per sender.

What deciding one subnet's path looked at travels in a `SenderScope`, made for that path and passed down, never
kept on the evaluator: whether a decision was taken for the sender's own address (then the path is the sender's
alone) or for every sender inside the subnet (then the path is kept for the senders inside it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from auditor.classify.addresses import inside
from auditor.classify.network.firewall_rules import FirewallDecision, FirewallRules
from auditor.classify.network.nsg import (
    ANY_SOURCE_WORDS,
    CompiledNsg,
    NsgDecision,
    compile_nsg,
    decide_nsg,
    same_for_every_sender_in,
)
from auditor.model import NetworkSecurityGroup, Resource

_Decision = TypeVar("_Decision", NsgDecision, FirewallDecision)
_Key = tuple[str, int]
_SubnetKey = tuple[str, int, tuple[str, ...]]


@dataclass
class SenderScope:
    """What deciding one subnet's path for one sender looked at: made per path, passed down, read after it."""

    subnet: tuple[str, ...]  # the prefixes of the subnet whose path is being decided
    source_read: bool = False  # a decision was taken for the sender's own address: the path is its own
    subnet_wide: bool = False  # a decision was taken for every sender in the subnet: kept for those inside it


class Decisions:
    """NSG and firewall decisions, each kept where it serves more than one sender."""

    def __init__(self, rules: FirewallRules) -> None:
        self._rules = rules
        self._source_dependent: dict[str, bool] = {}
        self._compiled_nsgs: dict[_Key, CompiledNsg] = {}
        self._nsg_decisions: dict[_Key, NsgDecision] = {}
        self._nsg_subnet_decisions: dict[_SubnetKey, NsgDecision] = {}
        self._firewall_by_sender: dict[_Key, bool] = {}
        self._firewall_decisions: dict[_Key, FirewallDecision] = {}
        self._firewall_subnet_decisions: dict[_SubnetKey, FirewallDecision] = {}
        self._same_in_subnet: dict[_SubnetKey, bool] = {}

    def nsg(
        self,
        nsg: NetworkSecurityGroup,
        source: Sequence[str],
        port: int,
        scope: SenderScope,
        asgs: frozenset[str] | None = None,
    ) -> NsgDecision:
        """The NSG's decision: its rules sorted and matched once per NSG and port; decided once when none of its
        outbound rules looks at the source (the common case: `*`, `VirtualNetwork`), else as `_for_sender` says
        (`asgs`: the sender's application security groups, None where not known)."""
        nsg_id = nsg.nsg_id.lower()
        by_source = self._source_dependent.get(nsg_id)
        if by_source is None:
            by_source = self._source_dependent[nsg_id] = any(
                rule.source_asgs or not ({p.strip().lower() for p in rule.source_prefixes} & ANY_SOURCE_WORDS)
                for rule in nsg.rules
                if rule.direction.lower() == "outbound"
            )
        compiled = self._compiled_nsgs.get((nsg_id, port))
        if compiled is None:
            compiled = self._compiled_nsgs[(nsg_id, port)] = compile_nsg(nsg, port)
        if by_source:
            return self._for_sender(
                (nsg_id, port),
                source,
                scope,
                lambda within: same_for_every_sender_in(compiled, within),
                lambda sender: decide_nsg(compiled, sender, port, asgs),
                self._nsg_subnet_decisions,
            )
        decision = self._nsg_decisions.get((nsg_id, port))
        if decision is None:
            decision = self._nsg_decisions[(nsg_id, port)] = decide_nsg(compiled, source, port)
        return decision

    def firewall(
        self, firewall: Resource, source: tuple[str, ...] | None, port: int, scope: SenderScope | None
    ) -> FirewallDecision:
        """The firewall's rules for this sender (None: for any sender it serves): decided once per firewall and
        port when no rule that may match looks at the sender (then the subnet's path is shared too), else as
        `_for_sender` says."""
        networking, rules = firewall.firewall, self._rules
        assert networking is not None
        key = (firewall.resource_id.lower(), port)
        by_sender = self._firewall_by_sender.get(key)
        if by_sender is None:
            by_sender = self._firewall_by_sender[key] = rules.looks_at_sender(networking, firewall.name, port)
        if by_sender and source is not None and scope is not None:
            return self._for_sender(
                key,
                source,
                scope,
                lambda within: rules.same_for_every_sender_in(networking, firewall.name, within, port),
                lambda sender: rules.decide(networking, firewall.name, sender, port),
                self._firewall_subnet_decisions,
            )
        # kept per firewall and port: the decision for every sender, or (rules naming senders) for any sender
        decision = self._firewall_decisions.get(key)
        if decision is None:
            decision = self._firewall_decisions[key] = rules.decide(networking, firewall.name, source, port)
        return decision

    def _for_sender(  # noqa: PLR0913 (the decision, its sender and scope, and how to decide it)
        self,
        key: _Key,
        source: Sequence[str],
        scope: SenderScope,
        same_in: Callable[[tuple[str, ...]], bool],
        decide: Callable[[Sequence[str]], _Decision],
        kept: dict[_SubnetKey, _Decision],
    ) -> _Decision:
        """A decision whose rules name sources: once per subnet when `same_in` the scope's subnet (its rules hold
        it whole or not at all) and the sender lies inside it, and the scope then says so; else for this sender,
        not kept (a million senders' decisions would cost more memory than deciding again costs time)."""
        within = scope.subnet
        wide = (*key, within)
        same = self._same_in_subnet.get(wide)
        if same is None:
            same = self._same_in_subnet[wide] = same_in(within)
        if same and inside(within, source):
            scope.subnet_wide = True
            decision = kept.get(wide)
            if decision is None:
                decision = kept[wide] = decide(within)
            return decision
        scope.source_read = True
        return decide(source)
