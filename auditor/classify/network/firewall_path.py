"""Traffic that reaches an Azure Firewall: the firewall's own way to the internet, then its rules for the sender.
And the firewall's own finding: can any sender it serves get out through it?"""

from __future__ import annotations

from auditor.classify.addresses import Match, public_coverage
from auditor.classify.listing import capped
from auditor.classify.network.index import NetworkIndex
from auditor.classify.network.path import (
    HopKind,
    NetworkPath,
    Outcome,
    Reason,
    Step,
    step,
    undetermined,
)
from auditor.classify.network.routes import internet_route
from auditor.classify.network.sharing import Decisions, SenderScope
from auditor.model import Egress, ListName, Resource


class FirewallPath:
    def __init__(self, index: NetworkIndex, decisions: Decisions) -> None:
        self._index = index
        self._decisions = decisions

    def through(
        self, firewall: Resource, source: tuple[str, ...], port: int, reason: Reason, scope: SenderScope
    ) -> NetworkPath:
        """Traffic that reaches the firewall (the reason's last step says how): its own way out, then its rules
        for this sender."""
        stopped = self.passes_nothing(firewall)
        if stopped is not None:
            return NetworkPath(Egress.FIREWALL, Outcome.DENIED, reason.then(stopped), None, firewall.resource_id)
        own = self.exit_problem(firewall)
        if own is not None:
            return undetermined(reason.then(own), firewall, firewall.resource_id)
        decision = self._decisions.firewall(firewall, source, port, scope)
        rules = Step(HopKind.FIREWALL_RULES, decision.reason, firewall.resource_id, decision.unread)
        said, narrowing = reason.through(rules, decision.destinations)
        if decision.allowed is None or (decision.allowed and narrowing.unknowable):
            return undetermined(said, firewall, firewall.resource_id)
        outcome = Outcome.VIA_FIREWALL if decision.allowed and not narrowing.nowhere else Outcome.DENIED
        return NetworkPath(Egress.FIREWALL, outcome, said, firewall, firewall.resource_id)

    def passes_nothing(self, firewall: Resource) -> Step | None:
        """Why no traffic leaves through the firewall at all (deallocated, or SNAT to the internet ruled out)."""
        return _deallocated(firewall) or self.no_snat(firewall)

    def no_snat(self, firewall: Resource) -> Step | None:
        """Azure Firewall, "SNAT private IP address ranges": it does not SNAT traffic to its private ranges, and with
        0.0.0.0/0 among them it "can never route traffic directly to the Internet"."""
        ranges = self._private_ranges(firewall)
        usable = [r for r in ranges if r.strip().lower() != "ianaprivateranges"]
        if not usable or public_coverage(usable) is not Match.YES:
            return None
        return Step(
            HopKind.FIREWALL_RULES,
            f"Azure Firewall {firewall.name}'s SNAT private ranges ({', '.join(capped(usable, 'ranges'))}) cover the "
            "internet: it SNATs no traffic to it, so it cannot send to the internet directly",
            firewall.resource_id,
        )

    def _private_ranges(self, firewall: Resource) -> tuple[str, ...]:
        """Its policy's (or the nearest parent's that sets them), else its classic setting; the default is IANA's."""
        networking = firewall.firewall
        if networking is None:
            return ()
        policy_id, seen = networking.policy_id, set()
        while policy_id is not None and policy_id.lower() not in seen:
            seen.add(policy_id.lower())
            policy = self._index.firewall_policies.get(policy_id.lower())
            if policy is None:
                return ()
            if policy.snat_private_ranges is not None:
                return policy.snat_private_ranges
            policy_id = policy.base_policy_id
        return networking.snat_private_ranges or ()

    def exit_problem(self, firewall: Resource) -> Step | None:
        """Why the firewall's own way to the internet is not known; None when it sends from its own public IP."""
        networking = firewall.firewall
        if networking is None or not networking.has_public_ip:
            return step(
                f"Azure Firewall {firewall.name} has no public IP configuration: forced tunnelling or missing data"
            )
        subnet = self._index.subnets.get((networking.subnet_id or "").lower())
        if subnet is not None and subnet.route_table_id:
            table = self._index.route_tables.get(subnet.route_table_id.lower())
            if table is None:
                return self._index.missing(
                    "The firewall subnet's route table", subnet.route_table_id, ListName.ROUTE_TABLES
                )
            route = internet_route(table.routes)
            if route is not None and route.next_hop_type.lower() != "internet":
                return step(
                    f"Azure Firewall {firewall.name}'s own route {route.name} sends {route.address_prefix} to "
                    f"{route.next_hop_type} (forced tunnelling), not to the internet"
                )
        return None

    def itself(self, firewall: Resource, port: int) -> NetworkPath:
        """The firewall's own finding: can any sender it serves get TCP `port` out through it?"""
        stopped = self.passes_nothing(firewall)
        if stopped is not None:
            return NetworkPath(Egress.NONE, Outcome.DENIED, Reason.of(stopped))
        own = self.exit_problem(firewall)
        if own is not None:
            return undetermined(Reason.of(own))
        decision = self._decisions.firewall(firewall, None, port, None)
        reason = Reason.of(
            Step(HopKind.OUTBOUND, "The firewall sends from its own public IP", firewall.resource_id),
            Step(HopKind.FIREWALL_RULES, decision.reason, firewall.resource_id, decision.unread, decision.destinations),
        )
        if decision.allowed is None:
            return NetworkPath(Egress.PUBLIC_IP, Outcome.UNDETERMINED, reason)
        return NetworkPath(Egress.PUBLIC_IP, Outcome.OPEN if decision.allowed else Outcome.DENIED, reason)


def _deallocated(firewall: Resource) -> Step | None:
    """A deallocated (stopped) firewall has no instances: it passes nothing until it is started again."""
    if firewall.firewall is None or not firewall.firewall.deallocated:
        return None
    return Step(
        HopKind.FIREWALL_RULES,
        f"Azure Firewall {firewall.name} has no IP configurations: it is deallocated (stopped), has no instances and "
        "passes no traffic until it is started again",
        firewall.resource_id,
    )
