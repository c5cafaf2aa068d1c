"""The rule table: what Azure does to outbound TCP 25, per Microsoft's article, one row per rule.

Each rule carries the edition, section and sentence of the article it follows (in the edition's language, with an
English rendering), the resource categories it speaks of, the platform policy it gives, the remediation the report
prints, and a plain predicate over `Facts`. The first rule of the ruleset that speaks of the resource's category
and whose predicate holds decides. `port25-audit rules` and the README's rule section are generated from this
table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from auditor.classify.editions import ARTICLE_TITLE, ARTICLE_URL, CURRENT, EDITION_2020_PL, EDITION_2020_RU, Edition
from auditor.model import Offer, PlatformPolicy, ResourceCategory, Ruleset

# The sections and sentences the rules cite, in English (the originals are the evidence; these are renderings).
SECTIONS_IN_ENGLISH = {
    "Důležité": "Important",
    "Enterprise a MCA-E": "Enterprise and MCA-E",
    "(úvod)": "introduction",
    "Všechny ostatní typy předplatných": "All other subscription types",
    "Ograniczenia i ograniczenia": "Restrictions and limitations",
    "Enterprise Agreement": "Enterprise Agreement",
    "(wstęp)": "introduction",
    "Płatność zgodnie z rzeczywistym użyciem": "Pay-As-You-Go",
    "Dostawca usług w chmurze (CSP)": "Cloud Solution Provider (CSP)",
    "Microsoft Partner Network (MPN), BizSpark Plus lub Dostęp sponsorowany Azure": (
        "Microsoft Partner Network (MPN), BizSpark Plus or Azure Sponsorship"
    ),
    "MSDN, Azure — dostęp próbny, Azure w ramach programu licencjonowania Open, Education, Azure for Students, "
    "usługa Visual Studio i bezpłatna wersja próbna": (
        "MSDN, Azure Pass, Azure in Open, Education, Azure for Students, Visual Studio and Free Trial"
    ),
    "MSDN, Azure Pass, Azure с открытой лицензией, для образования, BizSpark и бесплатная пробная версия": (
        "MSDN, Azure Pass, Azure in Open, Education, BizSpark and Free Trial"
    ),
    "Оплата по мере использования": "Pay-As-You-Go",
}
QUOTES_IN_ENGLISH = {
    "Odesílání e-mailů na portu 25 není podporováno pro všechny ostatní prostředky Azure Typu platforma jako "
    "služba (PaaS).": "Sending email on port 25 is not supported for all other Azure platform-as-a-service (PaaS) "
    "resources.",
    "Pro odchozí komunikaci ve službě Aplikace Azure Service a Azure Functions je možné použít port 25 "
    "prostřednictvím funkce integrace virtuální sítě nebo při použití služby App Service Environment v3.": (
        "For outbound communication in Azure App Service and Azure Functions, port 25 can be used through the "
        "virtual network integration feature or when using App Service Environment v3."
    ),
    "U virtuálních počítačů a služby Azure Firewall nasazených ve standardních smlouva Enterprise nebo Smlouva "
    "se zákazníkem Microsoftu pro předplatná MCA-E (Enterprise) nejsou odchozí připojení SMTP na portu TCP 25 "
    "blokovaná.": "For VMs and Azure Firewall deployed in standard Enterprise Agreement or Microsoft Customer "
    "Agreement for Enterprise (MCA-E) subscriptions, outbound SMTP connections on TCP port 25 are not blocked.",
    "Po vyloučení předplatného z tohoto bloku a zastavení a restartování virtuálních počítačů budou všechny "
    "virtuální počítače v tomto předplatném vyloučené.": "After the subscription is exempted from this block and "
    "the VMs are stopped and restarted, all VMs in that subscription are exempt.",
    "Odchozí e-mailové zprávy, které se odesílají přímo do externích domén (například outlook.com a gmail.com) "
    "z virtuálního počítače, jsou dostupné jenom pro určité typy předplatných v Microsoft Azure.": (
        "Outbound email messages sent directly to external domains (such as outlook.com and gmail.com) from a "
        "virtual machine are available only to certain subscription types in Microsoft Azure."
    ),
    "Výjimka se vztahuje pouze na požadované předplatné a pouze na přenosy virtuálních počítačů směrované přímo "
    "na internet.": "The exemption applies only to the requested subscription and only to VM traffic routed "
    "directly to the internet.",
    "U předplatných Enterprise pro vývoj/testování je ve výchozím nastavení blokovaný port 25.": (
        "For Enterprise Dev/Test subscriptions, port 25 is blocked by default."
    ),
    "Platforma Azure blokuje odchozí připojení SMTP na portu TCP 25 pro nasazené virtuální počítače.": (
        "The Azure platform blocks outbound SMTP connections on TCP port 25 for deployed VMs."
    ),
    "Routing ruchu 25 portów za pośrednictwem usług Azure PaaS Services": (
        "Routing port 25 traffic through Azure PaaS services"
    ),
    "próby dostarczenia nie będą blokowane przez platformę Azure dla maszyn wirtualnych w ramach subskrypcji "
    "Umowa Enterprise": "delivery attempts will not be blocked by the Azure platform for virtual machines in "
    "Enterprise Agreement subscriptions",
    "Ta zmiana w zachowaniu dotyczy tylko nowych subskrypcji i nowych wdrożeń od 15 listopada 2017.": (
        "This change in behavior applies only to new subscriptions and new deployments since November 15, 2017."
    ),
    "Wyłączenie dotyczy tylko ruchu maszyn wirtualnych, który jest kierowany bezpośrednio do Internetu.": (
        "The exemption applies only to VM traffic that is routed directly to the internet."
    ),
    "są dostępne tylko dla niektórych typów subskrypcji w Microsoft Azure": (
        "are available only for certain subscription types in Microsoft Azure"
    ),
    "W przypadku subskrypcji z opcją płatność zgodnie z rzeczywistym użyciem, które zostały utworzone po "
    "15 listopada 2017, będą obowiązywać ograniczenia techniczne, które blokują wiadomości e-mail wysyłane "
    "bezpośrednio z maszyn wirtualnych w ramach tych subskrypcji.": "For Pay-As-You-Go subscriptions created "
    "after November 15, 2017, technical restrictions apply that block email sent directly from VMs in those "
    "subscriptions.",
    'możesz utworzyć żądanie usunięcia ograniczenia w sekcji "łączność" w bloku "diagnozowanie i rozwiązywanie"': (
        'you can create a request to remove the restriction in the "Connectivity" section of the "Diagnose and '
        'solve" blade'
    ),
    "W przypadku Microsoft Partner Network (MPN), BizSpark Plus lub Dostęp sponsorowany Azure subskrypcje, które "
    "zostały utworzone po 15 listopada 2017, zostaną nałożone ograniczenia techniczne": "Microsoft Partner "
    "Network (MPN), BizSpark Plus or Azure Sponsorship subscriptions created after November 15, 2017 will have "
    "technical restrictions applied",
    "Nie zostaną udzielone żadne żądania usunięcia tego ograniczenia.": (
        "No requests to remove this restriction will be granted."
    ),
    "Запросы на удаление этого ограничения не будут выполнены.": (
        "Requests to remove this restriction will not be granted."
    ),
}

CUTOFF_2017 = dt.date(2017, 11, 15)


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
class Rule:
    id: str
    ruleset: Ruleset
    edition: Edition
    section: str  # in the edition's language ("(…)": the text before the first heading)
    quote: str  # the sentence, verbatim, in the edition's language
    summary: str
    policy: PlatformPolicy
    remediation: str
    applies: Callable[[Facts], bool]
    categories: frozenset[ResourceCategory]  # the resources the rule speaks of; it decides only for them

    @property
    def section_english(self) -> str:
        return SECTIONS_IN_ENGLISH.get(self.section, self.section)

    @property
    def quote_english(self) -> str:
        return QUOTES_IN_ENGLISH[self.quote]

    @property
    def citation(self) -> str:
        """Where a reader finds the sentence: the article, the edition (language, date), the section."""
        section = self.section_english
        original = "" if self.section.startswith("(") else f" (\u201c{self.section}\u201d)"
        return (
            f"Microsoft Learn, \u201c{ARTICLE_TITLE}\u201d, {self.edition.label}, section \u201c{section}\u201d"
            f"{original}, {ARTICLE_URL}"
        )


VM_LIKE = frozenset({ResourceCategory.VIRTUAL_MACHINE, ResourceCategory.SCALE_SET})
APP = frozenset({ResourceCategory.APP_SERVICE})
# What the subscription-type rules speak of: VMs, scale sets and Azure Firewall, and apps that reach port 25 through
# VNet integration or an App Service Environment v3 (then "the subscription restrictions described apply").
SUBSCRIPTION_RULED = VM_LIKE | APP | {ResourceCategory.FIREWALL}
OTHER_PAAS = frozenset({ResourceCategory.CONTAINER_APP, ResourceCategory.CONTAINER_INSTANCE})
NOT_VM = frozenset(ResourceCategory) - VM_LIKE
EA_MCAE = frozenset({Offer.ENTERPRISE_AGREEMENT, Offer.MCA_ENTERPRISE})

RELAY = (
    "Send through an authenticated SMTP relay on TCP 587, such as Azure Communication Services' SMTP relay: "
    "port 587 is not restricted on any subscription type."
)
NOTHING_TO_REQUEST = (
    "Nothing to request: Azure does not block TCP 25 here, but external domains may still reject the mail and "
    "changing the subscription to another type can turn the block on. " + RELAY
)
DEVTEST_EXEMPTION = (
    "Request the exemption: Azure portal \u2192 the virtual network \u2192 Diagnose and solve problems \u2192 "
    "Cannot send email (SMTP-Port 25), run the diagnostics; then stop and start the VMs. Or: " + RELAY
)
EXEMPTION_RECORDED = (
    "Exemption recorded in the audit config: it covers only VM traffic routed directly to the internet, and only "
    "after the VMs were stopped and started once it was granted."
)
APP_PATH = (
    "Only regional VNet integration with the app's outbound traffic routed into the VNet "
    "(outboundVnetRouting.applicationTraffic / vnetRouteAllEnabled), or an App Service Environment v3, "
    "can carry port 25; otherwise " + RELAY
)
SET_OFFER = "Set `offer` (and for the 2020 edition `created`) for this subscription in the audit config."


def _offer_in(*offers: Offer) -> Callable[[Facts], bool]:
    chosen = frozenset(offers)
    return lambda facts: facts.offer in chosen


def _created_before_cutoff(facts: Facts) -> bool:
    return facts.created is not None and facts.created < CUTOFF_2017


def _exempted_vm(facts: Facts) -> bool:
    return facts.category in VM_LIKE and facts.exemption_granted is not None


CURRENT_RULES: tuple[Rule, ...] = (
    Rule(
        "CUR-PAAS",
        Ruleset.CURRENT,
        CURRENT,
        "Důležité",
        "Odesílání e-mailů na portu 25 není podporováno pro všechny ostatní prostředky Azure Typu platforma jako "
        "služba (PaaS).",
        "Sending mail on port 25 is not supported from any other Azure PaaS resource (Container Apps, Container "
        "Instances, …).",
        PlatformPolicy.NOT_SUPPORTED,
        RELAY,
        lambda f: True,
        OTHER_PAAS,
    ),
    Rule(
        "CUR-APP-NOPATH",
        Ruleset.CURRENT,
        CURRENT,
        "Důležité",
        "Pro odchozí komunikaci ve službě Aplikace Azure Service a Azure Functions je možné použít port 25 "
        "prostřednictvím funkce integrace virtuální sítě nebo při použití služby App Service Environment v3.",
        "App Service and Functions reach port 25 only through VNet integration or on an App Service Environment v3; "
        "this app has neither.",
        PlatformPolicy.NOT_SUPPORTED,
        APP_PATH,
        lambda f: f.app_path is AppPath.NONE,
        APP,
    ),
    Rule(
        "CUR-APP-UNKNOWN",
        Ruleset.CURRENT,
        CURRENT,
        "Důležité",
        "Pro odchozí komunikaci ve službě Aplikace Azure Service a Azure Functions je možné použít port 25 "
        "prostřednictvím funkce integrace virtuální sítě nebo při použití služby App Service Environment v3.",
        "Whether this app has a port-25 path (routed VNet integration or ASE v3) could not be determined.",
        PlatformPolicy.UNKNOWN,
        APP_PATH,
        lambda f: f.app_path is AppPath.UNKNOWN,
        APP,
    ),
    Rule(
        "CUR-EA-MCAE",
        Ruleset.CURRENT,
        CURRENT,
        "Enterprise a MCA-E",
        "U virtuálních počítačů a služby Azure Firewall nasazených ve standardních smlouva Enterprise nebo Smlouva "
        "se zákazníkem Microsoftu pro předplatná MCA-E (Enterprise) nejsou odchozí připojení SMTP na portu TCP 25 "
        "blokovaná.",
        "Enterprise Agreement and MCA-E: outbound TCP 25 is not blocked (delivery is not guaranteed).",
        PlatformPolicy.NOT_BLOCKED,
        NOTHING_TO_REQUEST,
        _offer_in(*EA_MCAE),
        SUBSCRIPTION_RULED,
    ),
    Rule(
        "CUR-EXEMPTED",
        Ruleset.CURRENT,
        CURRENT,
        "Enterprise a MCA-E",
        "Po vyloučení předplatného z tohoto bloku a zastavení a restartování virtuálních počítačů budou všechny "
        "virtuální počítače v tomto předplatném vyloučené.",
        "An exemption is recorded for the subscription: its VMs (and scale-set VMs) are exempt.",
        PlatformPolicy.EXEMPTED,
        EXEMPTION_RECORDED,
        _exempted_vm,
        VM_LIKE,
    ),
    Rule(
        "CUR-OFFER-UNKNOWN",
        Ruleset.CURRENT,
        CURRENT,
        "(úvod)",
        "Odchozí e-mailové zprávy, které se odesílají přímo do externích domén (například outlook.com a gmail.com) "
        "z virtuálního počítače, jsou dostupné jenom pro určité typy předplatných v Microsoft Azure.",
        "The rule depends on the subscription type, which is not known.",
        PlatformPolicy.UNKNOWN,
        SET_OFFER,
        lambda f: f.offer is None,
        SUBSCRIPTION_RULED,
    ),
    Rule(
        "CUR-DEVTEST-NONVM",
        Ruleset.CURRENT,
        CURRENT,
        "Enterprise a MCA-E",
        "Výjimka se vztahuje pouze na požadované předplatné a pouze na přenosy virtuálních počítačů směrované přímo "
        "na internet.",
        "Enterprise Dev/Test blocks TCP 25, and its exemption covers only VM traffic routed directly to the internet.",
        PlatformPolicy.BLOCKED,
        RELAY,
        lambda f: f.offer is Offer.ENTERPRISE_DEVTEST,
        SUBSCRIPTION_RULED - VM_LIKE,
    ),
    Rule(
        "CUR-DEVTEST",
        Ruleset.CURRENT,
        CURRENT,
        "Enterprise a MCA-E",
        "U předplatných Enterprise pro vývoj/testování je ve výchozím nastavení blokovaný port 25.",
        "Enterprise Dev/Test: TCP 25 is blocked by default; the block can be removed.",
        PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE,
        DEVTEST_EXEMPTION,
        _offer_in(Offer.ENTERPRISE_DEVTEST),
        VM_LIKE,
    ),
    Rule(
        "CUR-OTHER",
        Ruleset.CURRENT,
        CURRENT,
        "Všechny ostatní typy předplatných",
        "Platforma Azure blokuje odchozí připojení SMTP na portu TCP 25 pro nasazené virtuální počítače.",
        "Every subscription type other than EA, MCA-E and Enterprise Dev/Test: TCP 25 is blocked.",
        PlatformPolicy.BLOCKED,
        RELAY,
        lambda f: True,
        SUBSCRIPTION_RULED,
    ),
)

PAYG_EXEMPTION = (
    "Request the exemption: Azure portal \u2192 the virtual network \u2192 Diagnose and solve problems \u2192 "
    "Connectivity; Microsoft decides after extra anti-fraud checks. Or: " + RELAY
)
CSP_EXEMPTION = (
    "Request the exemption in the Azure portal (the virtual network \u2192 Diagnose and solve problems \u2192 "
    "Connectivity), or ask the CSP partner to request it from Microsoft. Or: " + RELAY
)
SUPPORT_CASE_EXEMPTION = (
    "Request the exemption with a support case: Technical \u2192 Virtual Network \u2192 Connectivity \u2192 "
    "Cannot send email (SMTP/Port 25), saying why the deployment must send mail directly. Or: " + RELAY
)
NO_EXEMPTION = "No exemption is granted for this subscription type: " + RELAY + " Or change the subscription type."
UNNAMED_2020 = frozenset(
    {
        Offer.MCA_ENTERPRISE,
        Offer.MCA_INDIVIDUAL,
        Offer.INTERNAL,
        Offer.LIGHTWEIGHT_TRIAL,
        Offer.SUPPORT_PLAN,
        Offer.ENTRA_ID_ACCESS,
    }
)

RULES_2020: tuple[Rule, ...] = (
    Rule(
        "2020-PAAS",
        Ruleset.EDITION_2020,
        EDITION_2020_PL,
        "Ograniczenia i ograniczenia",
        "Routing ruchu 25 portów za pośrednictwem usług Azure PaaS Services",
        "Routing port 25 through Azure PaaS services such as Azure Firewall or App Service is not supported.",
        PlatformPolicy.NOT_SUPPORTED,
        RELAY,
        lambda f: True,
        NOT_VM,
    ),
    Rule(
        "2020-EA",
        Ruleset.EDITION_2020,
        EDITION_2020_PL,
        "Enterprise Agreement",
        "próby dostarczenia nie będą blokowane przez platformę Azure dla maszyn wirtualnych w ramach subskrypcji "
        "Umowa Enterprise",
        "Enterprise Agreement (Enterprise Dev/Test is an EA offer): delivery attempts are not blocked.",
        PlatformPolicy.NOT_BLOCKED,
        NOTHING_TO_REQUEST,
        _offer_in(Offer.ENTERPRISE_AGREEMENT, Offer.ENTERPRISE_DEVTEST),
        VM_LIKE,
    ),
    Rule(
        "2020-BEFORE-CUTOFF",
        Ruleset.EDITION_2020,
        EDITION_2020_PL,
        "(wstęp)",
        "Ta zmiana w zachowaniu dotyczy tylko nowych subskrypcji i nowych wdrożeń od 15 listopada 2017.",
        "Subscriptions created before 2017-11-15 keep unrestricted outbound TCP 25.",
        PlatformPolicy.NOT_BLOCKED,
        NOTHING_TO_REQUEST,
        _created_before_cutoff,
        VM_LIKE,
    ),
    Rule(
        "2020-EXEMPTED",
        Ruleset.EDITION_2020,
        EDITION_2020_PL,
        "Płatność zgodnie z rzeczywistym użyciem",
        "Wyłączenie dotyczy tylko ruchu maszyn wirtualnych, który jest kierowany bezpośrednio do Internetu.",
        "An exemption is recorded for the subscription: its VMs (and scale-set VMs) are exempt.",
        PlatformPolicy.EXEMPTED,
        EXEMPTION_RECORDED,
        _exempted_vm,
        VM_LIKE,
    ),
    Rule(
        "2020-OFFER-UNKNOWN",
        Ruleset.EDITION_2020,
        EDITION_2020_PL,
        "(wstęp)",
        "są dostępne tylko dla niektórych typów subskrypcji w Microsoft Azure",
        "The rule depends on the subscription type, which is not known.",
        PlatformPolicy.UNKNOWN,
        SET_OFFER,
        lambda f: f.offer is None,
        VM_LIKE,
    ),
    Rule(
        "2020-UNNAMED",
        Ruleset.EDITION_2020,
        EDITION_2020_PL,
        "(wstęp)",
        "są dostępne tylko dla niektórych typów subskrypcji w Microsoft Azure",
        "The 2020 edition names no rule for this subscription type (it predates MCA; internal, support-plan, "
        "Entra-access and lightweight-trial offers are not named).",
        PlatformPolicy.UNKNOWN,
        "Judge it under the current edition (--ruleset current). " + RELAY,
        lambda f: f.offer in UNNAMED_2020,
        VM_LIKE,
    ),
    Rule(
        "2020-DATE-UNKNOWN",
        Ruleset.EDITION_2020,
        EDITION_2020_PL,
        "(wstęp)",
        "Ta zmiana w zachowaniu dotyczy tylko nowych subskrypcji i nowych wdrożeń od 15 listopada 2017.",
        "The rule depends on whether the subscription was created before 2017-11-15, which Azure Resource Manager "
        "does not expose.",
        PlatformPolicy.UNKNOWN,
        "Set `created` for this subscription in the audit config.",
        lambda f: f.created is None,
        VM_LIKE,
    ),
    Rule(
        "2020-PAYG",
        Ruleset.EDITION_2020,
        EDITION_2020_PL,
        "Płatność zgodnie z rzeczywistym użyciem",
        "W przypadku subskrypcji z opcją płatność zgodnie z rzeczywistym użyciem, które zostały utworzone po "
        "15 listopada 2017, będą obowiązywać ograniczenia techniczne, które blokują wiadomości e-mail wysyłane "
        "bezpośrednio z maszyn wirtualnych w ramach tych subskrypcji.",
        "Pay-As-You-Go created on or after 2017-11-15: blocked; the block can be removed on request.",
        PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE,
        PAYG_EXEMPTION,
        _offer_in(Offer.PAY_AS_YOU_GO, Offer.PAYG_DEVTEST),
        VM_LIKE,
    ),
    Rule(
        "2020-CSP",
        Ruleset.EDITION_2020,
        EDITION_2020_PL,
        "Dostawca usług w chmurze (CSP)",
        'możesz utworzyć żądanie usunięcia ograniczenia w sekcji "łączność" w bloku "diagnozowanie i rozwiązywanie"',
        "Cloud Solution Provider created on or after 2017-11-15: blocked; the block can be removed on request.",
        PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE,
        CSP_EXEMPTION,
        _offer_in(Offer.CSP),
        VM_LIKE,
    ),
    Rule(
        "2020-MPN-SPONSORSHIP",
        Ruleset.EDITION_2020,
        EDITION_2020_PL,
        "Microsoft Partner Network (MPN), BizSpark Plus lub Dostęp sponsorowany Azure",
        "W przypadku Microsoft Partner Network (MPN), BizSpark Plus lub Dostęp sponsorowany Azure subskrypcje, które "
        "zostały utworzone po 15 listopada 2017, zostaną nałożone ograniczenia techniczne",
        "MPN, BizSpark Plus and Azure Sponsorship created on or after 2017-11-15: blocked; an exemption can be "
        "requested through a support case.",
        PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE,
        SUPPORT_CASE_EXEMPTION,
        _offer_in(Offer.MPN, Offer.BIZSPARK_PLUS, Offer.SPONSORSHIP),
        VM_LIKE,
    ),
    Rule(
        "2020-NO-EXEMPTION",
        Ruleset.EDITION_2020,
        EDITION_2020_PL,
        "MSDN, Azure — dostęp próbny, Azure w ramach programu licencjonowania Open, Education, Azure for Students, "
        "usługa Visual Studio i bezpłatna wersja próbna",
        "Nie zostaną udzielone żadne żądania usunięcia tego ograniczenia.",
        "MSDN, Azure Pass, Azure in Open, Education, Azure for Students, Visual Studio and Free Trial created on or "
        "after 2017-11-15: blocked, and no exemption is granted.",
        PlatformPolicy.BLOCKED,
        NO_EXEMPTION,
        _offer_in(
            Offer.MSDN,
            Offer.VISUAL_STUDIO,
            Offer.FREE_TRIAL,
            Offer.AZURE_PASS,
            Offer.AZURE_IN_OPEN,
            Offer.EDUCATION,
            Offer.AZURE_FOR_STUDENTS,
            Offer.STUDENTS_STARTER,
        ),
        VM_LIKE,
    ),
    Rule(
        "2020-BIZSPARK",
        Ruleset.EDITION_2020,
        EDITION_2020_RU,
        "MSDN, Azure Pass, Azure с открытой лицензией, для образования, BizSpark и бесплатная пробная версия",
        "Запросы на удаление этого ограничения не будут выполнены.",
        "BizSpark created on or after 2017-11-15: blocked, and no exemption is granted (named only in the earlier "
        "ru-RU text; the later pl-PL text is silent on it).",
        PlatformPolicy.BLOCKED,
        NO_EXEMPTION,
        _offer_in(Offer.BIZSPARK),
        VM_LIKE,
    ),
)

RULES: dict[Ruleset, tuple[Rule, ...]] = {Ruleset.CURRENT: CURRENT_RULES, Ruleset.EDITION_2020: RULES_2020}
ALL_RULES: tuple[Rule, ...] = CURRENT_RULES + RULES_2020


def deciding_rule(ruleset: Ruleset, facts: Facts) -> Rule:
    """The first rule of the ruleset that speaks of the resource's category and whose predicate holds (each
    ruleset has, for every category, a last one that always can)."""
    for rule in RULES[ruleset]:
        if facts.category in rule.categories and rule.applies(facts):
            return rule
    raise LookupError(f"no {ruleset.value} rule decides {facts}")
