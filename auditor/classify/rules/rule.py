"""What a rule is: the article text it follows (an `Edition`), the facts it may look at (`Facts`), when it applies
(a `Condition` that says itself in words, for the generated docs), and what it gives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from auditor.model import Offer, PlatformPolicy, ResourceCategory, Ruleset

ARTICLE_TITLE = "Troubleshoot outbound SMTP connectivity issues in Azure"
ARTICLE_URL = "https://learn.microsoft.com/troubleshoot/azure/virtual-network/troubleshoot-outbound-smtp-connectivity"


@dataclass(frozen=True)
class Article:
    """Microsoft's article, as the reports cite it."""

    title: str
    url: str


ARTICLE = Article(ARTICLE_TITLE, ARTICLE_URL)


@dataclass(frozen=True)
class Edition:
    """One text of the article, as a reader cites it: which edition, in which language, of what date."""

    ruleset: Ruleset  # the edition's id, as `--ruleset` names it
    name: str  # "current edition", "2020 edition"
    file: str  # the text this project keeps of it (the tests check every quote against it)
    language: str  # BCP 47 tag of the evidence, for the page's lang attribute
    language_name: str
    dated: str  # what the edition's own metadata says of its date
    title: str  # the title in that language
    english_dated: str  # the date of Microsoft's English text this edition renders, which the citations name
    # English renderings of the sections and sentences the rules cite (the originals are the evidence)
    sections_in_english: Mapping[str, str] = field(default_factory=dict, compare=False)
    quotes_in_english: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.language_name}, {self.dated})"

    @property
    def cited_as(self) -> str:
        """How the reports name the text they cite: the English article's date, and the edition checked."""
        return f"the English text of {self.english_dated}; the {self.language_name} edition is the evidence checked"


class AppPath(StrEnum):
    """How an App Service / Functions app could reach the internet on port 25."""

    NONE = "none"
    VNET_INTEGRATION = "vnet_integration"
    ASE_V3 = "ase_v3"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Facts:
    """What a rule may look at. For an app with a path, `offer` and the dates are those of the VNet's subscription."""

    category: ResourceCategory
    offer: Offer | None
    created: dt.date | None = None
    exemption_granted: dt.date | None = None
    app_path: AppPath | None = None


@dataclass(frozen=True)
class Condition:
    """When a rule applies: a plain predicate over `Facts`, and the same in words ("applies when ...")."""

    says: str
    holds: Callable[[Facts], bool]

    def __call__(self, facts: Facts) -> bool:
        return self.holds(facts)


CUTOFF_2017 = dt.date(2017, 11, 15)

ALWAYS = Condition("always, when no earlier rule for these resources applied", lambda facts: True)
OFFER_UNKNOWN = Condition(
    "the subscription's offer is not known (no quotaId that names it, no billing fact, no `offer` in the audit config)",
    lambda facts: facts.offer is None,
)
CREATED_UNKNOWN = Condition(
    "the subscription's creation date is not known (no `created` in the audit config)",
    lambda facts: facts.created is None,
)
CREATED_BEFORE_CUTOFF = Condition(
    f"the subscription was created before {CUTOFF_2017.isoformat()} (`created` in the audit config)",
    lambda facts: facts.created is not None and facts.created < CUTOFF_2017,
)
EXEMPTION_GRANTED = Condition(
    "an exemption is recorded for the subscription (`exemption_granted` in the audit config)",
    lambda facts: facts.exemption_granted is not None,
)
APP_WITHOUT_PATH = Condition(
    "the app has neither regional VNet integration with its outbound traffic routed into the VNet nor an App "
    "Service Environment v3",
    lambda facts: facts.app_path is AppPath.NONE,
)
APP_PATH_UNKNOWN = Condition(
    "whether the app routes its outbound traffic into a VNet, or which App Service Environment it runs on, could "
    "not be read",
    lambda facts: facts.app_path is AppPath.UNKNOWN,
)


def offer_in(*offers: Offer) -> Condition:
    chosen = frozenset(offers)
    named = " or ".join(f"`{offer.value}`" for offer in offers)
    return Condition(f"the subscription's offer is {named}", lambda facts: facts.offer in chosen)


@dataclass(frozen=True)
class Rule:
    id: str
    edition: Edition
    section: str  # in the edition's language ("(…)": the text before the first heading)
    quote: str  # the sentence, verbatim, in the edition's language
    summary: str
    policy: PlatformPolicy
    remediation: str
    applies: Condition
    categories: frozenset[ResourceCategory]  # the resources the rule speaks of; it decides only for them

    @property
    def ruleset(self) -> Ruleset:
        return self.edition.ruleset

    @property
    def advises_relay(self) -> bool:
        """Whether the rule's advice is (or ends with) the authenticated relay on TCP 587, which a finding then
        says with what TCP 587 does on its own path."""
        return self.remediation.startswith(RELAY) or self.remediation.endswith(RELAY)

    @property
    def section_english(self) -> str:
        return self.edition.sections_in_english.get(self.section, self.section)

    @property
    def quote_english(self) -> str:
        return self.edition.quotes_in_english[self.quote]

    @property
    def section_cited(self) -> str:
        """The section, in English and in the edition checked: `section “Important”; Czech: “Důležité”`."""
        if self.section.startswith("("):
            return f"the introduction; {self.edition.language_name}: the same"
        return f"section \u201c{self.section_english}\u201d; {self.edition.language_name}: \u201c{self.section}\u201d"

    @property
    def citation(self) -> str:
        """Where a reader finds the sentence: the English article by title, date and section, its link, and the
        section in the edition whose wording this project checks."""
        section = self.section_english
        original = (
            f"{self.edition.language_name} edition: introduction"
            if self.section.startswith("(")
            else f"{self.edition.language_name} edition: section \u201c{self.section}\u201d"
        )
        return (
            f"Microsoft Learn, \u201c{ARTICLE_TITLE}\u201d, {self.edition.english_dated}, section "
            f"\u201c{section}\u201d, {ARTICLE_URL} ({original})"
        )


VM_LIKE = frozenset({ResourceCategory.VIRTUAL_MACHINE, ResourceCategory.SCALE_SET})
APP = frozenset({ResourceCategory.APP_SERVICE})
# What the subscription-type rules speak of: VMs, scale sets and Azure Firewall, and apps that reach port 25 through
# VNet integration or an App Service Environment v3 (then "the subscription restrictions described apply").
SUBSCRIPTION_RULED = VM_LIKE | APP | {ResourceCategory.FIREWALL}
OTHER_PAAS = frozenset({ResourceCategory.CONTAINER_APP, ResourceCategory.CONTAINER_INSTANCE})
NOT_VM = frozenset(ResourceCategory) - VM_LIKE

_RELAY_WHAT = (
    "through an authenticated SMTP relay on TCP 587, such as Azure Communication Services' SMTP relay: port 587 is "
    "not restricted on any subscription type."
)
RELAY = f"Send {_RELAY_WHAT}"
RELAY_IF_MAIL_MUST_FLOW = f"If mail must flow, send {_RELAY_WHAT}"
NOTHING_TO_REQUEST = (
    "Nothing to request: Azure does not block TCP 25 here, but external domains may still reject the mail and "
    "changing the subscription to another type can turn the block on. " + RELAY
)
EXEMPTION_RECORDED = (
    "Exemption recorded in the audit config: it covers only VM traffic routed directly to the internet. VMs that "
    "ran before it was granted must be stopped, deallocated and then restarted. If the subscription's VNet has a "
    "delegated subnet (to an App Service Environment, say), add a new temporary subnet and remove it again."
)
SET_OFFER = "Set `offer` (and for the 2020 edition `created`) for this subscription in the audit config."
