"""What to do about a finding, from its verdict and what decided it, not from the rule alone.

- open: how to close it (an outbound NSG deny for TCP 25 where the traffic leaves, or a firewall rule), and the
  relay if mail must flow;
- blocked with an exemption available: how and where to request it, for this offer (the rule says);
- blocked, not supported: the authenticated relay on TCP 587, checked on this path (`relay_587`);
- denied by the network: nothing, and what keeps it closed;
- unknown: the one missing fact, and how to supply it (which read access, which config key).
"""

from __future__ import annotations

import sys
from functools import lru_cache

from auditor.classify.network import AllowingRule, ClosingPoint, MissingFact, Reason, Unread
from auditor.classify.rules import RELAY, RELAY_IF_MAIL_MUST_FLOW, Rule
from auditor.model import Egress, NicAdvice, PlatformPolicy, Verdict

# What TCP 587 does on the resource's path, said after the relay advice.
_RELAY_ON_THIS_PATH: dict[Verdict | None, str] = {
    Verdict.OPEN: " TCP 587 gets out on this resource's path.",
    Verdict.DENIED_BY_NETWORK: " But TCP 587 is denied on this resource's path too: allow it to the relay's address.",
    Verdict.UNKNOWN: " Whether TCP 587 gets out on this resource's path could not be determined.",
}
# The relay advice, alone and after the advice to close a path, by what TCP 587 does: one string each, shared
# by a million findings.
_RELAY_ADVICE = {relay: RELAY + said for relay, said in _RELAY_ON_THIS_PATH.items()}
_RELAY_IF_MUST_FLOW = {relay: RELAY_IF_MAIL_MUST_FLOW + said for relay, said in _RELAY_ON_THIS_PATH.items()}


def _relay(relay: Verdict | None) -> str:
    return _RELAY_ADVICE.get(relay, RELAY)


@lru_cache(maxsize=4096)  # a million findings share a few thousand deciding steps
def _nothing_to_do(fact: str) -> str:
    return f"Nothing to do: TCP 25 cannot leave ({fact}). Keep it so." if fact else "Nothing to do."


def _missing(fact: MissingFact | None) -> str | None:
    """How to supply the object a path needed and did not have."""
    if fact is None:
        return None
    if fact.why is Unread.LIST_UNREAD:
        if fact.subscription_name:  # by name, and the id where the role is assigned
            return (
                f"Give the identity read access to the {fact.operation} list of subscription {fact.subscription_name} "
                f"(Reader on subscription {fact.subscription_id}), then scan again."
            )
        return (
            f"Give the identity read access to the {fact.operation} list of subscription {fact.subscription_id} "
            "(Reader on the subscription), then scan again."
        )
    if fact.why is Unread.NOT_AUDITED:
        return (
            f"Add subscription {fact.subscription_id} to the audit (it holds part of this resource's network), or "
            "give the identity Reader on it, then scan again."
        )
    return None


def _on(point: ClosingPoint | None, lead: str, rest: str) -> str | NicAdvice:
    """`lead`, where to close the path, then `rest`. Where that names the resource's NIC, advice told with each
    resource's own NIC: resources alike share the rest."""
    if point is None:
        return lead + rest
    if not point.nic:
        return f"{lead} on subnet {point.subnet}{rest}"
    return NicAdvice(f"{lead} on NIC ", (f" or subnet {point.subnet}" if point.subnet else "") + rest)


def _close_it(  # noqa: PLR0913 (where to close, and what must come after the deny)
    rule: Rule,
    own: str,
    via_firewall: str,
    closing_point: ClosingPoint | None,
    relay: Verdict | None,
    allowing: tuple[AllowingRule, ...] = (),
) -> str | NicAdvice:
    """An open resource: where to close TCP 25, and (unless it is exempted) the relay if mail must flow. A deny
    closes the path only ahead of the rule that lets it out: the NSG's own allow where one did, else the default
    AllowInternetOutBound."""
    keep = own if rule.policy is PlatformPolicy.EXEMPTED else _RELAY_IF_MUST_FLOW.get(relay, RELAY_IF_MAIL_MUST_FLOW)
    if via_firewall:
        # advice on a firewall is the same for every resource behind it: one copy
        return sys.intern(
            f"To close it: in Azure Firewall {via_firewall}'s rules, add a network rule that denies TCP 25 to the "
            f"internet ahead of the rule that allows it. {keep}"
        )
    lead = "To close it: add an outbound NSG rule denying TCP 25 to Internet"
    if allowing:
        ahead = "; ".join(
            f"in NSG {a.nsg} it needs a priority number below {a.priority}, that of rule {a.rule}, which lets TCP 25 "
            "out (or remove that rule)"
            for a in allowing
        )
        return _on(closing_point, lead, f"; {ahead}. {keep}")
    return _on(closing_point, lead, f" (a priority number below 65001 wins over AllowInternetOutBound). {keep}")


def remediation(  # noqa: C901, PLR0911, PLR0913 (one advice a verdict and what decided it, in the order docs/design.md gives)
    verdict: Verdict,
    rule: Rule,
    network_reason: Reason,
    *,
    via_firewall: str = "",
    closing_point: ClosingPoint | None = None,
    relay: Verdict | None = None,
    rule_remediation: str | None = None,
    egress: Egress | None = None,
    via: str = "",
) -> str | NicAdvice:
    """`rule_remediation`: the rule's own advice where a finding-specific one replaces it (an exempted VM)."""
    own = rule_remediation if rule_remediation is not None else rule.remediation
    if verdict is Verdict.OPEN:
        return _close_it(rule, own, via_firewall, closing_point, relay, network_reason.allowing)
    if verdict is Verdict.DENIED_BY_NETWORK:
        return _nothing_to_do(network_reason.deciding_text)
    if verdict is Verdict.BLOCKED:
        if via_firewall and rule.policy not in (PlatformPolicy.BLOCKED, PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE):
            return sys.intern(
                f"The traffic leaves through Azure Firewall {via_firewall}, whose subscription blocks TCP 25 (an "
                "exemption of this subscription does not cover it): " + _relay(relay)
            )
        if rule.policy is PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE:
            return own
        return _relay(relay) if own == rule.remediation and rule.advises_relay else own
    if verdict is Verdict.NOT_SUPPORTED:
        return own
    # unknown: the platform policy needs a fact (the rule says which), or the network path does
    if rule.policy is PlatformPolicy.UNKNOWN:
        return own
    missing = _missing(network_reason.missing)
    if missing:
        return missing
    if egress is Egress.APPLIANCE:
        return (
            f"Check the network appliance {via or 'the route names'}: whether it lets TCP 25 out to the internet "
            "decides, and port25-audit cannot see past it."
        )
    if egress is Egress.ON_PREMISES:
        return (
            "Check your on-premises egress: the traffic leaves Azure through the VPN/ExpressRoute gateway, so your "
            "own network decides whether TCP 25 gets out."
        )
    fact = network_reason.deciding_text
    return (
        f"Find out what port25-audit could not see, then scan again: {fact}."
        if fact
        else ("Find out what port25-audit could not see, then scan again.")
    )
