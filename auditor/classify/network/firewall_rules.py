"""Does an Azure Firewall let TCP 25 (or 587) from a sender out to the internet? Its network rules decide.

Processing as Azure documents it (Azure Firewall, "Rule processing logic"; "Azure Firewall Policy rule sets"):
Azure Firewall denies all traffic until a rule allows it, and rules are terminating. Network rules are processed
before application rules, and application rules carry only HTTP/S and MSSQL, so for SMTP only network rules can
match; DNAT rules translate inbound traffic. With a Firewall Policy, the collections inherited from the parent
policy (`basePolicy`, itself after its own parent) come first, then rule collection groups by priority, then their
collections by priority (100 first). Classic rules: `networkRuleCollections` by priority.

A rule whose destination covers only part of the internet (an FQDN, a service tag, some prefixes) does not decide
for an arbitrary address; a rule whose source only partly covers the sender, or that names an IP group that could
not be read, may or may not apply: where it would change the answer, the answer is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from auditor.classify.addresses import (
    ANY_WORDS,
    EVERY_ADDRESS,
    AddressSet,
    Match,
    networks,
    port_matches,
    public_coverage,
    public_destinations,
    reachable_destinations,
)
from auditor.classify.listing import capped
from auditor.classify.network.path import EVERY_DESTINATION, Destinations, MissingFact, Step
from auditor.model import FirewallNetworking, FirewallPolicy, IpGroup, ListName, NetworkRule, NetworkRuleCollection

PROTOCOLS_WITH_TCP = frozenset({"tcp", "any"})


@dataclass(frozen=True)
class FirewallDecision:
    """allowed None: cannot be known (`missing` names what could not be read, `reason` why)."""

    allowed: bool | None
    reason: str
    missing: tuple[str, ...] = ()
    unread: MissingFact | None = None  # the first of them, typed: which list of which subscription
    destinations: Destinations = EVERY_DESTINATION  # allowed only to these public destinations


@dataclass(frozen=True)
class _Placed:
    """A network rule collection where the firewall processes it: whose it is, in order."""

    where: str
    collection: NetworkRuleCollection


@dataclass(frozen=True)
class _Compiled:
    """A network rule that may match TCP on one port to the internet, its destination and sources read once."""

    rule: NetworkRule
    destination: Match
    unread_destinations: tuple[str, ...]
    public: tuple[str, ...]  # where it names only some public destinations: those, as it names them
    public_read: tuple[str, ...]  # and those with its IP groups' addresses read
    sources: AddressSet
    unread_sources: tuple[str, ...]
    every_sender: bool  # its sources cover any address: the sender need not be looked at


def _lower(values: Sequence[str]) -> set[str]:
    return {v.strip().lower() for v in values}


class FirewallRules:
    """Decides firewall rule sets over the tenant's policies and IP groups (by lower-case id)."""

    def __init__(
        self,
        policies: Mapping[str, FirewallPolicy],
        ip_groups: Mapping[str, IpGroup],
        missing: Callable[[str, str, str], Step],
    ) -> None:
        self._policies = policies
        self._ip_groups = ip_groups
        self._missing = missing  # (what, id, list) -> the step saying why it was not collected
        # each firewall's collections in processing order, resolved once (by identity: the inventory outlives this)
        self._placed: dict[int, tuple[FirewallNetworking, list[_Placed] | FirewallDecision]] = {}
        # and their rules that may match each port, read once per firewall and port
        self._compiled: dict[tuple[int, int], list[tuple[_Placed, list[_Compiled]]]] = {}

    def looks_at_sender(self, firewall: FirewallNetworking, name: str, port: int) -> bool:
        """Whether the decision can differ from sender to sender: some network rule that may match TCP `port`
        names sources that are not every address (addresses, IP groups). A landing zone's hub usually has none
        for port 25, and then one decision serves all its spokes' senders."""
        placed = self._collections(firewall, name)
        if isinstance(placed, FirewallDecision):
            return False
        return any(not rule.every_sender for _, rules in self._rules(firewall, placed, port) for rule in rules)

    def same_for_every_sender_in(
        self, firewall: FirewallNetworking, name: str, prefixes: Sequence[str], port: int
    ) -> bool:
        """Whether every sender in these prefixes (a subnet's) gets the same decision: each rule that may match
        TCP `port` and names sources holds the prefixes whole or none of them. A spoke's subnet usually lies
        inside or outside a hub rule's source prefixes; one naming a single VM's address splits it."""
        placed = self._collections(firewall, name)
        if isinstance(placed, FirewallDecision):
            return True
        subnet = networks(prefixes)
        return not any(
            rule.sources.holds(subnet) is Match.UNCERTAIN
            for _, rules in self._rules(firewall, placed, port)
            for rule in rules
            if not rule.every_sender and (rule.sources.starts or rule.sources.unparsed)
        )

    def decide(
        self, firewall: FirewallNetworking, name: str, source: Sequence[str] | None, port: int
    ) -> FirewallDecision:
        """Whether the firewall lets TCP `port` from `source` (None: from any sender it may serve) to the internet;
        where it allows only some public destinations before denying the rest, "only to" those."""
        placed = self._collections(firewall, name)
        if isinstance(placed, FirewallDecision):
            return placed
        seen = _Seen(port)
        # for any sender (the firewall's own finding): the sources denied so far, in processing order; an allow
        # lets some sender out only if some of its sources reach it past them
        denied: list[AddressSet] = []
        for item, rules in self._rules(firewall, placed, port):
            action = item.collection.action.strip().lower()
            odd = self._odd_action(item, rules, source) if action not in ("allow", "deny") else None
            if odd is not None:
                return odd
            allow = action == "allow"
            for compiled in rules:
                destination, applies, unread = self._match(compiled, source, allow=allow)
                if source is None and _denied_before(compiled, allow, denied):
                    shadowed = _label(item, compiled)
                    seen.notes.append(f"{shadowed} allows TCP {port} only from sources a rule before it denies")
                    continue
                if applies is Match.NO:
                    continue
                label = _label(item, compiled)
                if destination is Match.PARTIAL:
                    seen.partly(label, compiled, allow, sure=applies is Match.YES, unread=unread, item=item)
                elif destination is Match.UNCERTAIN or applies is Match.UNCERTAIN:
                    seen.pending.append((item, compiled.rule, unread))
                else:
                    verb = "allows" if allow else "denies"
                    return self._decided(allow, f"{label} {verb} TCP {port} to the internet", seen)
        said = f"Azure Firewall {name} denies TCP {port} to the internet by default: no network rule allows it"
        return self._decided(False, said, seen)

    def _odd_action(
        self, item: _Placed, rules: list[_Compiled], source: Sequence[str] | None
    ) -> FirewallDecision | None:
        """A collection whose action is neither Allow nor Deny decides nothing that can be known, if it may match."""
        if all(self._match(rule, source, allow=True)[1] is Match.NO for rule in rules):
            return None
        return FirewallDecision(
            None,
            f"{item.where}, collection {item.collection.name} (priority {item.collection.priority}) has an "
            f"action Azure does not document ({item.collection.action!r}, not Allow or Deny)",
        )

    def _decided(self, allowed: bool, decision: str, seen: _Seen) -> FirewallDecision:
        """The decision for the internet at large, with what the rules before it said: an allow that may apply
        before a deny, or the reverse, makes it unknown; allows to some destinations before a deny let TCP out to
        those."""
        doubtful = [p for p in seen.pending if (p[0].collection.action.strip().lower() == "allow") != allowed]
        if not allowed and not doubtful and seen.reached:
            first = seen.reached[0][0]
            destinations = Destinations.of([d for _, named in seen.reached for d in named])
            said = f"{first} allows TCP {seen.port} {destinations.text()}; for the rest of the internet: {decision}"
            return FirewallDecision(True, seen.said(said), destinations=destinations)
        if not allowed and not doubtful:
            doubtful = seen.doubtful_allows
        said = seen.said(decision)
        if not doubtful:
            return FirewallDecision(allowed, said)
        missing = tuple(dict.fromkeys(u for _, _, unread in doubtful for u in unread))
        names = ", ".join(capped([f"{p.collection.name}/{r.name}" for p, r, _ in doubtful], "rules"))
        steps = [self._missing("IP group", group, ListName.IP_GROUPS) for group in missing]
        why = (
            "; ".join(capped([step.text for step in steps], "IP groups"))
            if steps
            else "its source only partly covers the sender, or names something that is not an address"
        )
        unread = steps[0].missing if steps else None
        return FirewallDecision(None, f"rule(s) {names} may apply before it ({why}); {said}", missing, unread)

    def _collections(self, firewall: FirewallNetworking, name: str) -> list[_Placed] | FirewallDecision:
        kept = self._placed.get(id(firewall))
        if kept is None or kept[0] is not firewall:
            kept = self._placed[id(firewall)] = (firewall, self._collections_in_order(firewall, name))
        return kept[1]

    def _collections_in_order(self, firewall: FirewallNetworking, name: str) -> list[_Placed] | FirewallDecision:
        if firewall.policy_id is None and firewall.rules_unreadable:
            return FirewallDecision(
                None,
                f"Azure Firewall {name}: its classic network rules could not be read ({firewall.rules_unreadable})",
            )
        if firewall.policy_id is None:
            return [
                _Placed(f"Azure Firewall {name} classic rules", c)
                for c in sorted(firewall.classic_collections, key=lambda c: c.priority)
            ]
        chain: list[FirewallPolicy] = []
        policy_id: str | None = firewall.policy_id
        while policy_id is not None:
            policy = self._policies.get(policy_id.lower())
            if policy is None:
                what = "Firewall policy" if not chain else f"Parent policy of {chain[-1].name}"
                why = self._missing(what, policy_id, ListName.FIREWALL_POLICIES)
                return FirewallDecision(None, f"Azure Firewall {name}: {why.text}", (policy_id,), why.missing)
            if policy.groups is None:
                return FirewallDecision(
                    None,
                    f"Azure Firewall {name}: the rule collection groups of policy {policy.name} could not be read",
                    (f"{policy.policy_id}/ruleCollectionGroups",),
                )
            if any(p.policy_id.lower() == policy.policy_id.lower() for p in chain):
                return FirewallDecision(
                    None, f"Azure Firewall {name}: policy {policy.name} is its own ancestor (basePolicy loop)"
                )
            chain.append(policy)
            policy_id = policy.base_policy_id
        return list(self._in_order(reversed(chain)))

    @staticmethod
    def _in_order(chain: Iterator[FirewallPolicy]) -> Iterator[_Placed]:
        for policy in chain:  # the parent first: inherited collections take precedence
            for group in sorted(policy.groups or (), key=lambda g: g.priority):
                for collection in sorted(group.collections, key=lambda c: c.priority):
                    yield _Placed(f"Firewall policy {policy.name}, group {group.name}", collection)

    def _addresses(self, direct: Sequence[str], groups: Sequence[str]) -> tuple[list[str], tuple[str, ...]]:
        """Addresses of a rule side with its IP groups' addresses; and the IP groups that could not be read."""
        found = list(direct)
        unread = []
        for group_id in groups:
            group = self._ip_groups.get(group_id.lower())
            if group is None:
                unread.append(group_id)
            else:
                found += group.addresses
        return found, tuple(unread)

    def _rules(
        self, firewall: FirewallNetworking, placed: list[_Placed], port: int
    ) -> list[tuple[_Placed, list[_Compiled]]]:
        """Each collection with its rules that may match TCP `port` to the internet (the others cannot decide)."""
        key = (id(firewall), port)  # `placed` is kept by the firewall's identity, so these are too
        rules = self._compiled.get(key)
        if rules is None:
            rules = self._compiled[key] = [
                (item, [c for rule in item.collection.rules if (c := self._compile(rule, port)) is not None])
                for item in placed
            ]
        return rules

    def _compile(self, rule: NetworkRule, port: int) -> _Compiled | None:
        if not _lower(rule.protocols) & PROTOCOLS_WITH_TCP or not port_matches(rule.destination_ports, port):
            return None
        destinations, unread_destinations = self._addresses(rule.destination_addresses, rule.destination_ip_groups)
        coverage = Match.YES if _lower(destinations) & ANY_WORDS else public_coverage(destinations)
        public: tuple[str, ...] = ()
        public_read: tuple[str, ...] = ()
        if coverage is Match.YES:
            destination = Match.YES
        elif unread_destinations:
            destination = Match.UNCERTAIN  # the IP group that could not be read may hold the rest
        else:
            public_read = (*public_destinations(destinations), *rule.destination_fqdns)
            if not public_read:
                return None  # private destinations alone are not the internet
            destination = Match.PARTIAL  # some prefixes, FQDNs and service tags name part of the internet
            public = (
                *public_destinations(rule.destination_addresses),
                *rule.destination_fqdns,
                *rule.destination_ip_groups,
            )
        sources, unread_sources = self._addresses(rule.source_addresses, rule.source_ip_groups)
        source_set = AddressSet.of(sources)
        every = bool(_lower(sources) & ANY_WORDS) or source_set.holds(EVERY_ADDRESS) is Match.YES
        return _Compiled(rule, destination, unread_destinations, public, public_read, source_set, unread_sources, every)

    @classmethod
    def _match(
        cls, rule: _Compiled, source: Sequence[str] | None, *, allow: bool
    ) -> tuple[Match, Match, tuple[str, ...]]:
        """The rule's destination (YES: the internet; PARTIAL: some public destinations; UNCERTAIN: an IP group
        that could not be read may hold the rest), whether it applies to the sender, and what could not be read."""
        origin = Match.YES if rule.every_sender else cls._source_match(rule, source, allow=allow)
        if origin is Match.NO:
            return rule.destination, Match.NO, ()
        return rule.destination, origin, rule.unread_destinations + rule.unread_sources

    @staticmethod
    def _source_match(rule: _Compiled, sender: Sequence[str] | None, *, allow: bool) -> Match:
        """A rule whose sources do not cover every address, against the sender. A source that is not an address
        (a word Azure does not document) may hold the sender: where no other source does, it is uncertain."""
        sources, unread = rule.sources, rule.unread_sources
        if sender is None:
            # any sender the firewall serves: an allow for some sources lets some out; a deny for some does not
            # keep the others in
            if allow and (sources.starts or sources.unparsed or unread):
                return Match.YES
            return Match.UNCERTAIN if unread else Match.NO
        match = sources.holds(networks(sender))
        if match is not Match.YES and (unread or sources.unparsed):
            return Match.UNCERTAIN
        return match


_Pending = tuple[_Placed, NetworkRule, tuple[str, ...]]  # a rule that may apply, and the IP groups not read


class _Seen:
    """What the rules processed before the deciding one said: rules for the internet that may apply, allows to
    some public destinations (sure, or that may apply), and the public destinations denied so far. One per
    decision, of which there may be one per sender: plain slots, no dataclass machinery."""

    __slots__ = ("denied", "doubtful_allows", "notes", "pending", "port", "reached")

    def __init__(self, port: int) -> None:
        self.port = port
        self.notes: list[str] = []
        self.pending: list[_Pending] = []
        self.reached: list[tuple[str, tuple[str, ...]]] = []  # a sure allow's label, and what it reaches
        self.doubtful_allows: list[_Pending] = []
        self.denied: list[str] = []

    def partly(  # noqa: PLR0913 (a rule, where it is, and how it matched)
        self, label: str, compiled: _Compiled, allow: bool, *, sure: bool, unread: tuple[str, ...], item: _Placed
    ) -> None:
        """A rule for some public destinations only."""
        if not sure:
            if allow:
                self.doubtful_allows.append((item, compiled.rule, unread))
            return
        if allow:
            reached = reachable_destinations(compiled.public_read, self.denied)
            if reached:
                named = [d for d in compiled.public if d in reached or d not in compiled.public_read]
                self.reached.append((label, tuple(named)))
            return
        self.denied += [*compiled.public_read, *compiled.public]
        self.notes.append(
            f"{label} denies TCP {self.port} only to some public destinations "
            f"({', '.join(capped(compiled.public, 'destinations'))}): not counted for the internet at large"
        )

    def said(self, decision: str) -> str:
        return "; ".join([decision, *capped(self.notes, "rules that decide nothing for the internet at large")])


def _label(item: _Placed, compiled: _Compiled) -> str:
    collection = item.collection
    return (
        f"{item.where}, collection {collection.name} (priority {collection.priority}, "
        f"{collection.action or 'no action'}), rule {compiled.rule.name}"
    )


def _denied_before(rule: _Compiled, allow: bool, denied: list[AddressSet]) -> bool:
    """For any sender: a deny is kept in `denied` (its sources denied from here on); an allow whose every source is
    in them lets no sender out."""
    if not allow:
        if rule.destination is Match.YES and not rule.unread_sources:
            denied.append(rule.sources)
        return False
    return bool(denied) and not rule.unread_sources and rule.sources.covered_by(denied)
