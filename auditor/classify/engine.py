"""Turn a collected tenant into findings: one per resource, each with the rule that decided it."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass

from auditor.classify.egress import EgressEvaluator, NetworkIndex, NetworkPath, Outcome
from auditor.classify.rules import VM_LIKE, AppPath, Facts, Rule, deciding_rule
from auditor.model import (
    AppServiceEnvironment,
    AuditConfig,
    Egress,
    Finding,
    OfferReading,
    PlatformPolicy,
    Resource,
    ResourceCategory,
    Ruleset,
    Subscription,
    SubscriptionFacts,
    SubscriptionSummary,
    TenantInventory,
    Verdict,
    subscription_of,
)
from auditor.offers import OFFER_DESCRIPTIONS, read_offer

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


@dataclass(frozen=True)
class _AppRoute:
    path: AppPath
    via_subscription: str | None
    note: str
    subnet_id: str | None = None


def verdict_for(policy: PlatformPolicy, network: NetworkPath) -> Verdict:
    """DESIGN §1: the platform decides first; where it would let TCP 25 out, the network path decides."""
    verdict = VERDICT_FROM_POLICY[policy]
    if verdict is not Verdict.OPEN:
        return verdict
    if network.outcome is Outcome.DENIED:
        return Verdict.DENIED_BY_NETWORK
    if network.outcome is Outcome.UNDETERMINED:
        return Verdict.UNKNOWN
    return Verdict.OPEN


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

    def findings(self) -> tuple[Finding, ...]:
        return tuple(self.finding(resource) for item in self._inventory.subscriptions for resource in item.resources)

    def summaries(self, findings: tuple[Finding, ...]) -> tuple[SubscriptionSummary, ...]:
        counts: dict[str, Counter[Verdict]] = {}
        for finding in findings:
            counts.setdefault(finding.subscription_id, Counter())[finding.verdict] += 1
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
                )
            )
        return tuple(summaries)

    def finding(self, resource: Resource) -> Finding:
        own = self._known[resource.subscription_id]
        notes = [self._offer_note(own)]
        governing: _Known | None = own
        route: _AppRoute | None = None
        if resource.category is ResourceCategory.APP_SERVICE:
            route = self._app_route(resource)
            notes.append(route.note)
            if route.via_subscription is not None and route.via_subscription != resource.subscription_id:
                governing = self._known.get(route.via_subscription)
                notes.append(
                    f"The rule is that of the VNet's subscription {route.via_subscription}: "
                    + (
                        self._offer_note(governing)
                        if governing
                        else "it is not among the audited subscriptions, so "
                        "its type is not known (add it to the scope or check the identity's access)."
                    )
                )
        rule = self._rule(resource.category, governing, route.path if route else None)
        notes.append(self._exemption_note(rule, resource.category, governing))
        policy = rule.policy
        network = self._network_path(resource, route)
        notes.append(network.reason)
        effective = policy
        if network.outcome is Outcome.VIA_FIREWALL and network.firewall is not None:
            effective, firewall_note = self._firewall_policy(network)
            notes.append(firewall_note)
        return Finding(
            tenant_id=own.subscription.tenant_id,
            subscription_id=resource.subscription_id,
            subscription_name=own.subscription.display_name,
            offer=own.offer.offer.value if own.offer.offer else "unknown",
            quota_id=own.subscription.quota_id or "",
            resource=resource,
            platform_policy=policy,
            egress=network.egress,
            verdict=verdict_for(effective, network),
            rule=rule.id,
            # many resources share a reason (one subscription, one subnet): keep one copy of each
            reason=sys.intern(" ".join(n for n in [rule.summary, *notes] if n)),
            remediation=rule.remediation,
        )

    def _network_path(self, resource: Resource, route: _AppRoute | None) -> NetworkPath:
        if route is None:
            return self._egress.path(resource)
        if route.path is AppPath.UNKNOWN:
            return NetworkPath(Egress.UNKNOWN, Outcome.UNDETERMINED, "")
        return self._egress.path(resource, route.subnet_id)

    def _firewall_policy(self, network: NetworkPath) -> tuple[PlatformPolicy, str]:
        """Traffic routed through an Azure Firewall takes the firewall's platform policy, not the resource's."""
        firewall = network.firewall
        assert firewall is not None
        rule = self._rule(ResourceCategory.FIREWALL, self._known.get(firewall.subscription_id), None)
        note = (
            f"Routed through Azure Firewall {firewall.name}, it takes the firewall's platform policy: "
            f"{rule.policy.value} ({rule.id}); any exemption of this subscription covers only traffic routed "
            "directly to the internet. Whether the firewall's own rules allow TCP 25 is not evaluated."
        )
        own_path = self._egress.path(firewall)
        if own_path.outcome is not Outcome.OPEN:
            return PlatformPolicy.UNKNOWN, f"{note} {own_path.reason}"
        return rule.policy, note

    def _rule(self, category: ResourceCategory, known: _Known | None, app_path: AppPath | None) -> Rule:
        facts = Facts(
            category=category,
            offer=known.offer.offer if known else None,
            created=known.facts.created if known else None,
            exemption_granted=known.facts.exemption_granted if known else None,
            app_path=app_path,
        )
        return deciding_rule(self._ruleset, facts)

    @staticmethod
    def _offer_note(known: _Known | None) -> str:
        if known is None:
            return ""
        reading = known.offer
        if reading.offer is None:
            return f"Offer unknown: {reading.note}."
        description = OFFER_DESCRIPTIONS[reading.offer]
        return f"Offer {reading.offer.value} ({description}), {reading.note}."

    @staticmethod
    def _exemption_note(rule: Rule, category: ResourceCategory, known: _Known | None) -> str:
        if known is None or known.facts.exemption_granted is None:
            return ""
        granted = known.facts.exemption_granted.isoformat()
        if rule.policy is PlatformPolicy.EXEMPTED:
            return f"Exemption granted {granted} (audit config)."
        if category in VM_LIKE:
            return ""
        return (
            f"The exemption recorded on {granted} does not apply here: "
            "it covers only VM traffic routed directly to the internet."
        )

    def _app_route(self, resource: Resource) -> _AppRoute:
        app = resource.app
        if app is None:
            return _AppRoute(AppPath.UNKNOWN, None, "The app's networking was not collected.")
        if app.environment_id:
            environment = self._environments.get(app.environment_id.lower())
            if environment is None:
                return _AppRoute(
                    AppPath.UNKNOWN,
                    None,
                    f"It runs on App Service Environment {app.environment_id}, which was not collected.",
                )
            if not environment.is_v3:
                return _AppRoute(
                    AppPath.NONE,
                    None,
                    f"It runs on App Service Environment {environment.name} of kind "
                    f"{environment.kind or 'unknown'}, not v3.",
                )
            via = subscription_of(environment.subnet_id) or subscription_of(environment.environment_id)
            return _AppRoute(
                AppPath.ASE_V3, via, f"It runs on App Service Environment v3 {environment.name}.", environment.subnet_id
            )
        if not app.subnet_id:
            return _AppRoute(
                AppPath.NONE, None, "It has no regional VNet integration and is not on an App Service Environment."
            )
        if app.routes_app_traffic is None:
            return _AppRoute(
                AppPath.UNKNOWN,
                None,
                f"It is integrated with subnet {app.subnet_id}, but whether its outbound traffic is "
                "routed into the VNet could not be read.",
            )
        if not app.routes_app_traffic:
            return _AppRoute(
                AppPath.NONE,
                None,
                f"It is integrated with subnet {app.subnet_id}, but its outbound internet traffic is not "
                "routed into the VNet (outboundVnetRouting / vnetRouteAllEnabled off).",
            )
        return _AppRoute(
            AppPath.VNET_INTEGRATION,
            subscription_of(app.subnet_id),
            f"Its outbound traffic is routed into subnet {app.subnet_id} (regional VNet integration).",
            app.subnet_id,
        )


def classify(
    inventory: TenantInventory, config: AuditConfig, ruleset: Ruleset
) -> tuple[tuple[Finding, ...], tuple[SubscriptionSummary, ...]]:
    classifier = Classifier(inventory, config, ruleset)
    findings = classifier.findings()
    return findings, classifier.summaries(findings)
