"""The vocabulary of a way out: typed steps, the reason they make, the outcome, the path.

A reason is its steps; its text is rendered from them here, once, and nowhere else: every other module reads the
steps (the deciding one, a missing fact) and never splits or joins a sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import NamedTuple

from auditor.classify.addresses import common_destinations
from auditor.classify.listing import MAX_LISTED
from auditor.model import Egress, PathHop, Resource


class HopKind(StrEnum):
    """What a step of a way out is (scan.json's `path[].kind`; `scan.schema.json` lists the same values)."""

    NIC = "nic"  # which NIC and IP configuration a path of a VM with several is
    NSG = "nsg"  # an NSG's decision
    ROUTE = "route"  # a user-defined route that decided
    VIRTUAL_HUB = "virtual_hub"  # a Virtual WAN hub that decided
    FIREWALL = "firewall"  # the Azure Firewall the traffic reaches
    FIREWALL_RULES = "firewall_rules"  # that firewall's rules' decision
    GATEWAY = "gateway"  # a virtual network gateway whose routes (BGP) the subnet may learn, which no GET shows
    OUTBOUND = "outbound"  # how the traffic leaves: its object (NAT gateway, public IP, load balancer, subnet, app)
    MISSING = "missing"  # an object that was not collected
    STEP = "step"  # any other step (a route that drops the traffic, an appliance)


class Unread(StrEnum):
    """Why an object a path needs was not collected."""

    NOT_AUDITED = "not_audited"  # its subscription is not among the audited ones
    LIST_UNREAD = "list_unread"  # its list could not be read
    NOT_LISTED = "not_listed"  # its list was read and does not hold it


@dataclass(frozen=True, slots=True)
class MissingFact:
    """An object a path needs that was not collected: which list of which subscription should hold it, and why
    it does not."""

    operation: str
    subscription_id: str
    why: Unread
    subscription_name: str = ""  # where it was audited


# The most destinations one step carries as data (scan.json); the rest are counted. Its text names fewer.
MAX_DESTINATIONS = 100


@dataclass(frozen=True, slots=True)
class Destinations:
    """The public destinations a path reaches where rules allow TCP only to some (as the rules name them: prefixes,
    FQDNs, service tags, IP groups): the first MAX_DESTINATIONS, and how many more. Empty: the internet at large."""

    named: tuple[str, ...] = ()
    more: int = 0

    @classmethod
    def of(cls, named: Sequence[str]) -> Destinations:
        unique = list(dict.fromkeys(named))
        return cls(tuple(unique[:MAX_DESTINATIONS]), max(0, len(unique) - MAX_DESTINATIONS))

    def __bool__(self) -> bool:
        return bool(self.named)

    def text(self) -> str:
        """ "only to 203.0.113.0/24, smtp.partner.example": at most MAX_LISTED named, the rest counted."""
        shown = list(self.named[:MAX_LISTED])
        rest = len(self.named) + self.more - len(shown)
        return "only to " + ", ".join([*shown, f"and {rest:,} more destinations"] if rest else shown)


EVERY_DESTINATION = Destinations()


class Narrowing(NamedTuple):
    """What a path reaches after a hop that allows only some destinations, when an earlier hop did too."""

    destinations: Destinations
    earlier: Destinations = EVERY_DESTINATION
    nowhere: bool = False  # the two hops allow no destination in common
    unknowable: bool = False  # which destinations both allow cannot be known (tags, FQDNs)

    def step(self) -> Step | None:
        """The step that says why the path ends here (None: it goes on)."""
        if self.unknowable:
            return step(
                f"Whether the destinations allowed before ({self.earlier.text()}) and here "
                f"({self.destinations.text()}) have any in common cannot be known from Azure Resource Manager"
            )
        if self.nowhere:
            return step(f"It allows none of the destinations allowed before ({self.earlier.text()})")
        return None


UNNARROWED = Narrowing(EVERY_DESTINATION)  # a hop that allows the internet at large, or denies


def narrowed(earlier: Destinations, later: Destinations) -> Narrowing:
    """Traffic must pass both hops: it reaches the destinations both allow. The narrowing's destinations are the
    later hop's own (narrowed), empty where it allows the internet at large: the path reaches the earlier ones."""
    if not earlier or not later:
        return Narrowing(later)
    if earlier.more or later.more:
        return Narrowing(later, earlier, unknowable=True)  # not every destination is at hand to compare
    common = common_destinations(earlier.named, later.named)
    if common is None:
        return Narrowing(later, earlier, unknowable=True)
    return Narrowing(Destinations.of(common) if common else later, earlier, nowhere=not common)


@dataclass(frozen=True, slots=True)
class AllowingRule:
    """An NSG's own rule that let the traffic out (not a default rule): a deny that closes the path must come
    before it, with a lower priority number."""

    nsg: str
    rule: str
    priority: int


@dataclass(frozen=True, slots=True)
class Step:
    kind: HopKind
    text: str
    object_id: str = ""
    missing: MissingFact | None = None
    destinations: Destinations = EVERY_DESTINATION  # where a rule allows TCP only to some public destinations
    allowing: AllowingRule | None = None  # an NSG step: the NSG's own rule that allowed it

    def hop(self) -> PathHop:
        return PathHop(self.kind.value, self.object_id, self.text, self.destinations.named, self.destinations.more)


@dataclass(frozen=True)
class Reason:
    """A network reason: its steps, in the order the traffic meets them; the last one decided. `label` says which
    of a resource's several ways out it is (a NIC and IP configuration)."""

    steps: tuple[Step, ...] = ()
    label: str = ""
    label_id: str = ""  # the NIC the label names

    @classmethod
    def of(cls, *steps: Step | None) -> Reason:
        return cls(tuple([step for step in steps if step is not None and step.text]))

    # Rendered when first asked and kept (in the instance's dict: a frozen dataclass's fields stay as they are).
    # Not functools.cached_property, whose lock costs more than the join on Python 3.11.
    @property
    def text(self) -> str:
        """The sentences the reason says: one a step."""
        said: str | None = self.__dict__.get("_text")
        if said is None:
            said = self.__dict__["_text"] = self._labelled(_sentences(self.steps))
        return said

    @property
    def deciding_text(self) -> str:
        """The sentence of the step that decided ("" where there is none)."""
        if not self.steps:
            return ""
        return self._labelled(self.steps[-1].text) if len(self.steps) == 1 else self.steps[-1].text

    @property
    def deciding_sentence(self) -> str:
        """The deciding step as a sentence of its own ("" where there is none)."""
        deciding = self.deciding_text
        return f"{deciding}." if deciding else ""

    @property
    def before_deciding(self) -> str:
        """The sentences of the steps before the deciding one ("" where there are none)."""
        return self._labelled(_sentences(self.steps[:-1])) if len(self.steps) > 1 else ""

    def _labelled(self, text: str) -> str:
        return f"{self.label}: {text}" if self.label and text else text

    @property
    def deciding(self) -> Step | None:
        return self.steps[-1] if self.steps else None

    @property
    def destinations(self) -> Destinations:
        """What the path reaches so far: the destinations of its last hop that allows only some (each hop's are
        narrowed by the hops before it); the internet at large where none does."""
        return next((step.destinations for step in reversed(self.steps) if step.destinations), EVERY_DESTINATION)

    @property
    def allowing(self) -> tuple[AllowingRule, ...]:
        """The NSGs' own rules that let the traffic out on its way (default rules are not named)."""
        return tuple(step.allowing for step in self.steps if step.allowing is not None)

    @property
    def missing(self) -> MissingFact | None:
        """The first object the path needed and did not have."""
        return next((step.missing for step in self.steps if step.missing is not None), None)

    def hops(self) -> tuple[PathHop, ...]:
        label = (PathHop(HopKind.NIC.value, self.label_id, self.label),) if self.label else ()
        return (*label, *(step.hop() for step in self.steps))

    def then(self, *steps: Step | None) -> Reason:
        return Reason(
            (*self.steps, *[step for step in steps if step is not None and step.text]), self.label, self.label_id
        )

    def through(self, hop: Step, destinations: Destinations) -> tuple[Reason, Narrowing]:
        """The reason with a hop that lets the traffic on only to `destinations` (empty: the internet at large, or
        not on at all): the hop carries what it narrows the path to, then a step says why the path ends where the
        hops before it allow none of them, or where that cannot be known."""
        if not destinations:
            return self.then(hop), UNNARROWED
        narrowing = narrowed(self.destinations, destinations)
        return self.then(replace(hop, destinations=narrowing.destinations), narrowing.step()), narrowing

    def deciding_as(self, kind: HopKind, object_id: str) -> Reason:
        """The reason with its deciding step named for what it is, where it was a plain step (a route, a hub)."""
        last = self.deciding
        if last is None or last.kind is not HopKind.STEP:
            return self
        said = Step(kind, last.text, object_id, last.missing, last.destinations, last.allowing)
        return Reason((*self.steps[:-1], said), self.label, self.label_id)

    def labelled(self, label: str, nic_id: str) -> Reason:
        return Reason(self.steps, label, nic_id)


def _sentences(steps: tuple[Step, ...]) -> str:
    return ". ".join(step.text for step in steps) + "." if steps else ""


def step(text: str, object_id: str = "") -> Step:
    """A step of no other kind: `object_id` the object it is about, "" for a conclusion of the steps before it."""
    return Step(HopKind.STEP, text, object_id)


class Outcome(StrEnum):
    OPEN = "open"  # the network lets the traffic out directly
    DENIED = "denied"  # an NSG, a route, a firewall's rules or the lack of a path stops it
    VIA_FIREWALL = "via_firewall"  # an Azure Firewall's rules let it out: the firewall's platform policy decides
    UNDETERMINED = "undetermined"  # an appliance, on-premises, or facts that could not be read


class ClosingPoint(NamedTuple):
    """Where an outbound NSG rule would close a path: the NIC and the subnet it goes through, by name ("" where
    there is none: an app has no NIC, a NIC's subnet may be unread)."""

    nic: str
    subnet: str


@dataclass(frozen=True)
class NetworkPath:
    """One way out: how the traffic leaves, whether it gets out, why; and the firewall or appliance it leaves
    through (`firewall` is set when an Azure Firewall's platform policy applies to it)."""

    egress: Egress
    outcome: Outcome
    reason: Reason
    firewall: Resource | None = None
    via: str = ""
    where: ClosingPoint | None = None  # where an outbound NSG rule would close the path


# Other PaaS (Container Apps, Container Instances): the platform rule decides, whatever their network does.
NOT_FOLLOWED = NetworkPath(Egress.UNKNOWN, Outcome.UNDETERMINED, Reason())


def undetermined(reason: Reason, firewall: Resource | None = None, via: str = "") -> NetworkPath:
    return NetworkPath(Egress.UNKNOWN, Outcome.UNDETERMINED, reason, firewall, via)


class SharedPaths(NamedTuple):
    """A VM's ways out for TCP 25 and TCP 587, shared with every VM alike; and where to close TCP 25, its own: its
    NIC and its subnet, by name (a `ClosingPoint`'s two, apart: one tuple a VM, not two)."""

    smtp: NetworkPath
    relay: NetworkPath
    nic: str
    subnet: str
