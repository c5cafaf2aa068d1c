"""Turn a collected tenant into findings: one per resource, each with the rule that decided it."""

from __future__ import annotations

import datetime as dt
import gc
import sys
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from auditor.classify.addresses import RELAY_PORT, SMTP_PORT
from auditor.classify.apps import AppRoute, app_route
from auditor.classify.exemption import exempted_remediation, exemption_note
from auditor.classify.network import (
    NOT_FOLLOWED,
    ClosingPoint,
    EgressEvaluator,
    NetworkIndex,
    NetworkPath,
    Outcome,
    Reason,
    SharedPaths,
)
from auditor.classify.remediation import remediation
from auditor.classify.rules import AppPath, Facts, Rule, deciding_rule
from auditor.model import (
    AppServiceEnvironment,
    Assessment,
    AuditConfig,
    Egress,
    Finding,
    NicAdvice,
    OfferReading,
    PlatformPolicy,
    PowerState,
    Resource,
    ResourceCategory,
    Ruleset,
    Subscription,
    SubscriptionFacts,
    SubscriptionLabel,
    SubscriptionSummary,
    TenantInventory,
    Verdict,
    ViaPolicy,
)
from auditor.offers import read_offer

VERDICT_FROM_POLICY: dict[PlatformPolicy, Verdict] = {
    PlatformPolicy.NOT_BLOCKED: Verdict.OPEN,
    PlatformPolicy.EXEMPTED: Verdict.OPEN,
    PlatformPolicy.BLOCKED: Verdict.BLOCKED,
    PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE: Verdict.BLOCKED,
    PlatformPolicy.NOT_SUPPORTED: Verdict.NOT_SUPPORTED,
    PlatformPolicy.UNKNOWN: Verdict.UNKNOWN,
}


@dataclass(frozen=True)
class _Known:
    subscription: Subscription
    facts: SubscriptionFacts
    offer: OfferReading

    @cached_property
    def label(self) -> SubscriptionLabel:
        """What each finding of the subscription says of it: one object for all of them."""
        sub = self.subscription
        offer = self.offer.offer.value if self.offer.offer else "unknown"
        return SubscriptionLabel(sub.tenant_id, sub.subscription_id, sub.display_name, offer, sub.quota_id or "")


# Which path speaks for a resource with several (one per NIC IP configuration): the most exposed, then the least known.
SEVERITY = (Verdict.OPEN, Verdict.UNKNOWN, Verdict.BLOCKED, Verdict.DENIED_BY_NETWORK, Verdict.NOT_SUPPORTED)


def verdict_for(policy: PlatformPolicy, network: NetworkPath) -> Verdict:
    """docs/design.md §1: the platform decides first; where it would let TCP 25 out, the network path decides."""
    verdict = VERDICT_FROM_POLICY[policy]
    if verdict is not Verdict.OPEN:
        return verdict
    return network_verdict(network)


def network_verdict(network: NetworkPath) -> Verdict:
    """What the network alone does to the connection."""
    if network.outcome is Outcome.DENIED:
        return Verdict.DENIED_BY_NETWORK
    if network.outcome is Outcome.UNDETERMINED:
        return Verdict.UNKNOWN
    return Verdict.OPEN


class _Weighed(NamedTuple):  # one per way out of every resource: a tuple costs a third of a frozen dataclass
    path: NetworkPath
    verdict: Verdict
    via_policy: ViaPolicy | None = None
    note: str = ""


class Classifier:
    """Applies one ruleset to a tenant, with the audit config's facts."""

    def __init__(self, inventory: TenantInventory, config: AuditConfig, ruleset: Ruleset) -> None:
        self._ruleset = ruleset
        self._known: dict[str, _Known] = {}
        billing = {fact.subscription_id.lower(): fact for fact in inventory.billing}
        for item in inventory.subscriptions:
            sub = item.subscription
            facts = config.facts_for(sub.subscription_id)
            offer = read_offer(sub.quota_id, facts, billing.get(sub.subscription_id))
            self._known[sub.subscription_id] = _Known(sub, facts, offer)
        self._environments: dict[str, AppServiceEnvironment] = {
            env.environment_id.lower(): env for item in inventory.subscriptions for env in item.environments
        }
        self._inventory = inventory
        self._egress = EgressEvaluator(NetworkIndex(inventory))
        self._rules: dict[tuple[ResourceCategory, str | None, AppPath | None], Rule] = {}
        self._firewall_policies: dict[str, tuple[ViaPolicy, str]] = {}
        # what every VM of a subscription with the same shared paths, state and subnet is found to be
        self._alike: dict[tuple[str, int, int, PowerState | None, str], Assessment] = {}

    def findings(self) -> tuple[Finding, ...]:
        return tuple(
            self.finding(resource)
            for item in self._inventory.subscriptions
            for resource in item.resources
            if not _only_a_container(resource)
        )

    def summaries(self, findings: tuple[Finding, ...]) -> tuple[SubscriptionSummary, ...]:
        counts: dict[str, Counter[Verdict]] = {}
        for (subscription_id, verdict), count in Counter((f.subscription_id, f.verdict) for f in findings).items():
            counts.setdefault(subscription_id, Counter())[verdict] = count
        summaries = []
        for item in self._inventory.subscriptions:
            known = self._known[item.subscription.subscription_id]
            vm_rule = self._rule(ResourceCategory.VIRTUAL_MACHINE, known, None)
            tally = counts.get(item.subscription.subscription_id, Counter())
            summaries.append(
                SubscriptionSummary(
                    subscription=item.subscription,
                    offer=known.offer,
                    vm_policy=vm_rule.policy,
                    vm_rule=vm_rule.id,
                    exemption_route=vm_rule.remediation,
                    verdict_counts={verdict: tally.get(verdict, 0) for verdict in Verdict},
                    errors=item.errors,
                    skipped=item.skipped,
                )
            )
        return tuple(summaries)

    def finding(self, resource: Resource) -> Finding:
        own = self._known[resource.subscription_id]
        if own.facts.exemption_granted is None:  # an exemption's note depends on each VM's creation date
            shared = self._egress.shared_paths(resource)
            if shared is not None:
                return self._finding_alike(resource, own, shared)
        return self._finding(resource, own)

    def _finding_alike(self, resource: Resource, own: _Known, shared: SharedPaths) -> Finding:
        """Most VMs: found as the first VM of their subscription with the same shared paths, state and subnet was;
        advice that names a NIC names their own. (No exemption note: the rule is the subscription's, its paths the
        subnet's.)"""
        # the shared paths are kept by the evaluator for the whole classification: their identity names them
        key = (resource.subscription_id, id(shared.smtp), id(shared.relay), resource.state, shared.subnet)
        assessment = self._alike.get(key)
        if assessment is None:
            first = self._finding(resource, own)
            self._alike[key] = first.assessment
            return first
        nic = shared.nic if isinstance(assessment.advice, NicAdvice) else ""
        return Finding(resource, own.label, assessment, nic)

    def _finding(self, resource: Resource, own: _Known) -> Finding:
        # how the offer was read is said once per subscription (subscriptions.csv), here only when it is the gap
        notes = [self._offer_note(own)]
        governing: _Known | None = own
        route: AppRoute | None = None
        if resource.category is ResourceCategory.APP_SERVICE:
            route = app_route(resource, self._environments)
            notes.append(route.note)
            if route.via_subscription is not None and route.via_subscription != resource.subscription_id:
                governing = self._known.get(route.via_subscription)
                notes.append(
                    f"The rule is that of the VNet's subscription {governing.subscription.display_name}."
                    + (f" {self._offer_note(governing)}" if governing.offer.offer is None else "")
                    if governing
                    else f"The rule is that of the VNet's subscription {route.via_subscription}, which is not among "
                    "the audited subscriptions, so its type is not known (add it to the scope or check the "
                    "identity's access)."
                )
        rule = self._rule(resource.category, governing, route.path if route else None)
        notes.append(exemption_note(rule, resource, _granted(governing)))
        notes.append(_state_note(resource))
        policy = rule.policy
        weighed = [self._weigh(policy, path) for path in self._network_paths(resource, route, SMTP_PORT)]
        chosen = weighed[0] if len(weighed) == 1 else min(weighed, key=lambda w: SEVERITY.index(w.verdict))
        relay = self._relay(resource, route)
        if chosen.path.firewall is not None and _granted(governing) is not None:
            notes.append("The exemption covers only traffic routed directly to the internet, not through a firewall.")
        lead, rest, way = self._deciding_first(rule, chosen, notes)
        where = chosen.path.where
        advice = self._advice(chosen.verdict, rule, chosen.path, resource, governing, relay, where)
        assessment = Assessment(
            platform_policy=policy,
            egress=chosen.path.egress,
            verdict=chosen.verdict,
            rule=rule.id,
            # many resources share a reason (one subscription, one subnet): keep one copy of each
            # the way out where the rule decided only where the reason stays short
            reason=sys.intern(_within(SHORT_REASON, _within(REASON_LIMIT, lead, rest), [way])),
            advice=advice,
            via=chosen.path.via,
            via_policy=chosen.via_policy,
            relay_587=relay,
            path=chosen.path.reason.hops(),
        )
        nic = where.nic if isinstance(advice, NicAdvice) and where is not None else ""
        return Finding(resource, own.label, assessment, nic)

    def _advice(  # noqa: PLR0913 (what the advice depends on, each its own fact)
        self,
        verdict: Verdict,
        rule: Rule,
        path: NetworkPath,
        resource: Resource,
        governing: _Known | None,
        relay: Verdict | None,
        closing_point: ClosingPoint | None,
    ) -> str | NicAdvice:
        return remediation(
            verdict,
            rule,
            path.reason,
            via_firewall=path.firewall.name
            if path.firewall
            else (resource.name if resource.category is ResourceCategory.FIREWALL else ""),
            closing_point=closing_point,
            relay=relay,
            rule_remediation=exempted_remediation(rule, resource, _granted(governing)),
            egress=path.egress,
            via=path.via,
        )

    @staticmethod
    def _deciding_first(rule: Rule, chosen: _Weighed, notes: list[str]) -> tuple[str, list[str], str]:
        """The fact that decided the verdict first, then what a reader needs beside it: the network's deciding step
        where the network decided (open, denied, or unknown for want of a network fact), else the rule. The rule a
        network-decided row falls under is in its own columns, and every step of the way out is in scan.json's
        `path`. The last of the three: the way out where the rule decided, said only where the reason is short."""
        decided_by_network = chosen.verdict in (Verdict.OPEN, Verdict.DENIED_BY_NETWORK) or (
            chosen.verdict is Verdict.UNKNOWN and rule.policy is not PlatformPolicy.UNKNOWN
        )
        reason = chosen.path.reason
        if not decided_by_network or not reason.steps:
            return rule.summary, [*notes, chosen.note], reason.text
        return reason.deciding_sentence, [*notes, reason.before_deciding, chosen.note], ""

    def _weigh(self, policy: PlatformPolicy, path: NetworkPath) -> _Weighed:
        """A path's verdict: traffic through an Azure Firewall takes the firewall's platform policy."""
        if path.firewall is None:
            return _Weighed(path, verdict_for(policy, path))
        via_policy, note = self._firewall_policy(path.firewall)
        return _Weighed(path, verdict_for(via_policy.policy, path), via_policy, note)

    def _relay(self, resource: Resource, route: AppRoute | None) -> Verdict | None:
        """TCP 587 through the same paths: Azure restricts it nowhere, so only the network decides; None where
        port25-audit follows no network path (other PaaS)."""
        if route is not None and route.path is AppPath.UNKNOWN:
            return Verdict.UNKNOWN
        paths = self._network_paths(resource, route, RELAY_PORT)
        if paths[0] is NOT_FOLLOWED:  # the one way out of a resource whose network is not followed
            return None
        if len(paths) == 1:  # most resources have one way out
            return network_verdict(paths[0])
        return min((network_verdict(path) for path in paths), key=SEVERITY.index)

    def _network_paths(self, resource: Resource, route: AppRoute | None, port: int) -> list[NetworkPath]:
        if route is None:
            return self._egress.paths(resource, port=port)
        if route.path is AppPath.UNKNOWN:
            return [NetworkPath(Egress.UNKNOWN, Outcome.UNDETERMINED, Reason())]
        return self._egress.paths(resource, route.subnet_id, port)

    def _firewall_policy(self, firewall: Resource) -> tuple[ViaPolicy, str]:
        """Traffic routed through an Azure Firewall takes the firewall's platform policy, not the resource's (said
        once per firewall: a hub's firewall serves every spoke's resources)."""
        said = self._firewall_policies.get(firewall.resource_id)
        if said is None:
            said = self._firewall_policies[firewall.resource_id] = self._firewall_policy_of(firewall)
        return said

    def _firewall_policy_of(self, firewall: Resource) -> tuple[ViaPolicy, str]:
        rule = self._rule(ResourceCategory.FIREWALL, self._known.get(firewall.subscription_id), None)
        note = (
            f"Through Azure Firewall {firewall.name}, it takes the policy of the firewall's subscription: "
            f"{_POLICY_IN_WORDS[rule.policy]} ({rule.id})."
        )
        return ViaPolicy(rule.policy, rule.id), note

    def _rule(self, category: ResourceCategory, known: _Known | None, app_path: AppPath | None) -> Rule:
        key = (category, known.subscription.subscription_id if known else None, app_path)
        rule = self._rules.get(key)
        if rule is None:
            rule = self._rules[key] = self._deciding_rule(category, known, app_path)
        return rule

    def _deciding_rule(self, category: ResourceCategory, known: _Known | None, app_path: AppPath | None) -> Rule:
        facts = Facts(
            category=category,
            offer=known.offer.offer if known else None,
            created=known.facts.created if known else None,
            exemption_granted=known.facts.exemption_granted if known else None,
            app_path=app_path,
        )
        return deciding_rule(self._ruleset, facts)

    @staticmethod
    def _offer_note(known: _Known) -> str:
        """Why a subscription's offer is not known (how a known one was read is in subscriptions.csv)."""
        return f"Offer unknown: {known.offer.note}." if known.offer.offer is None else ""


# How a reason says a platform policy (the reports' labels are theirs: classify says its own sentences).
_POLICY_IN_WORDS = {
    PlatformPolicy.NOT_BLOCKED: "TCP 25 not blocked",
    PlatformPolicy.BLOCKED: "TCP 25 blocked",
    PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE: "TCP 25 blocked, an exemption available",
    PlatformPolicy.EXEMPTED: "exempted",
    PlatformPolicy.NOT_SUPPORTED: "TCP 25 not supported",
    PlatformPolicy.UNKNOWN: "not known",
}


def _within(limit: int, lead: str, rest: list[str]) -> str:
    """The lead, then as many of the rest, in order, as keep the text within `limit` characters (a lead longer
    than that is said whole: it is what decided)."""
    said = lead
    for part in rest:
        if part and len(said) + 1 + len(part) <= limit:
            said = f"{said} {part}" if said else part
    return said


def _state_note(resource: Resource) -> str:
    """A resource that does not run now cannot send now, but will when started: its verdict stays its path's."""
    if resource.state in (PowerState.STOPPED, PowerState.DEALLOCATED):
        return f"It is {resource.state.value} now: it cannot send until it is started, and then as said here."
    return ""


# A finding's reason says what decided in at most this many characters; the rest is in scan.json's path.
REASON_LIMIT = 400
SHORT_REASON = 200


def _granted(known: _Known | None) -> dt.date | None:
    return known.facts.exemption_granted if known else None


def _only_a_container(resource: Resource) -> bool:
    """A flexible scale set with no VM profile only groups VMs, which are findings of their own."""
    return resource.category is ResourceCategory.SCALE_SET and resource.flexible and not resource.nics


def classify(
    inventory: TenantInventory, config: AuditConfig, ruleset: Ruleset
) -> tuple[tuple[Finding, ...], tuple[SubscriptionSummary, ...]]:
    # classify makes no reference cycles (tests/test_engine.py checks it): the garbage collector has nothing to find
    # while it runs, and its passes, which a million new findings set off and which walk them (and the inventory)
    # again and again, are held off: 0.6 s at a million resources.
    enabled = gc.isenabled()
    gc.disable()
    try:
        classifier = Classifier(inventory, config, ruleset)
        findings = classifier.findings()
        return findings, classifier.summaries(findings)
    finally:
        # what it made joins the collector's oldest generation, beside the inventory, without a pass: freezing
        # moves every object there, unfreezing leaves them there, counted as neither young nor new
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()
