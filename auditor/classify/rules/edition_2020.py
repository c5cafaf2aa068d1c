"""The rules of the 2020 edition of the article (`--ruleset 2020`), in the order they are tried. Two texts of
it are kept: the later one, Polish, stands where they differ; one rule follows the earlier Russian text, where the
Polish is silent."""

from __future__ import annotations

from auditor.classify.rules.rule import (
    ALWAYS,
    CREATED_BEFORE_CUTOFF,
    CREATED_UNKNOWN,
    EXEMPTION_GRANTED,
    EXEMPTION_RECORDED,
    NOT_VM,
    NOTHING_TO_REQUEST,
    OFFER_UNKNOWN,
    RELAY,
    SET_OFFER,
    VM_LIKE,
    Edition,
    Rule,
    offer_in,
)
from auditor.model import Offer, PlatformPolicy, Ruleset

EDITION_2020_RU = Edition(
    Ruleset.EDITION_2020,
    "2020 edition",
    "000_643e130fa403990c.txt",
    "ru",
    "Russian",
    "article of 2018-11-20, localised 2020-05-05",
    "Устранение проблем с исходящими подключениями SMTP в Azure",
    "2018-11-20",
    {
        "MSDN, Azure Pass, Azure с открытой лицензией, для образования, BizSpark и бесплатная пробная версия": (
            "MSDN, Azure Pass, Azure in Open, Education, BizSpark and Free Trial"
        ),
        "Оплата по мере использования": "Pay-As-You-Go",
    },
    {
        "Запросы на удаление этого ограничения не будут выполнены.": (
            "Requests to remove this restriction will not be granted."
        ),
    },
)
EDITION_2020_PL = Edition(
    Ruleset.EDITION_2020,
    "2020 edition",
    "003_30d7b769d5f0e677.txt",
    "pl",
    "Polish",
    "article of 2018-11-20, localised 2020-11-24",
    "Rozwiązywanie problemów z łącznością wychodzącą SMTP na platformie Azure",
    "2018-11-20",
    {
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
    },
    {
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
    },
)
EDITION = EDITION_2020_PL

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
UNNAMED_2020 = (
    Offer.MCA_ENTERPRISE,
    Offer.MCA_INDIVIDUAL,
    Offer.INTERNAL,
    Offer.LIGHTWEIGHT_TRIAL,
    Offer.SUPPORT_PLAN,
    Offer.ENTRA_ID_ACCESS,
)


RULES: tuple[Rule, ...] = (
    Rule(
        "2020-PAAS",
        EDITION_2020_PL,
        "Ograniczenia i ograniczenia",
        "Routing ruchu 25 portów za pośrednictwem usług Azure PaaS Services",
        "Routing port 25 through Azure PaaS services such as Azure Firewall or App Service is not supported.",
        PlatformPolicy.NOT_SUPPORTED,
        RELAY,
        ALWAYS,
        NOT_VM,
    ),
    Rule(
        "2020-EA",
        EDITION_2020_PL,
        "Enterprise Agreement",
        "próby dostarczenia nie będą blokowane przez platformę Azure dla maszyn wirtualnych w ramach subskrypcji "
        "Umowa Enterprise",
        "Enterprise Agreement (Enterprise Dev/Test is an EA offer): delivery attempts are not blocked.",
        PlatformPolicy.NOT_BLOCKED,
        NOTHING_TO_REQUEST,
        offer_in(Offer.ENTERPRISE_AGREEMENT, Offer.ENTERPRISE_DEVTEST),
        VM_LIKE,
    ),
    Rule(
        "2020-BEFORE-CUTOFF",
        EDITION_2020_PL,
        "(wstęp)",
        "Ta zmiana w zachowaniu dotyczy tylko nowych subskrypcji i nowych wdrożeń od 15 listopada 2017.",
        "Subscriptions created before 2017-11-15 keep unrestricted outbound TCP 25.",
        PlatformPolicy.NOT_BLOCKED,
        NOTHING_TO_REQUEST,
        CREATED_BEFORE_CUTOFF,
        VM_LIKE,
    ),
    Rule(
        "2020-EXEMPTED",
        EDITION_2020_PL,
        "Płatność zgodnie z rzeczywistym użyciem",
        "Wyłączenie dotyczy tylko ruchu maszyn wirtualnych, który jest kierowany bezpośrednio do Internetu.",
        "An exemption is recorded for the subscription: its VMs (and scale-set VMs) are exempt.",
        PlatformPolicy.EXEMPTED,
        EXEMPTION_RECORDED,
        EXEMPTION_GRANTED,
        VM_LIKE,
    ),
    Rule(
        "2020-OFFER-UNKNOWN",
        EDITION_2020_PL,
        "(wstęp)",
        "są dostępne tylko dla niektórych typów subskrypcji w Microsoft Azure",
        "The rule depends on the subscription type, which is not known.",
        PlatformPolicy.UNKNOWN,
        SET_OFFER,
        OFFER_UNKNOWN,
        VM_LIKE,
    ),
    Rule(
        "2020-UNNAMED",
        EDITION_2020_PL,
        "(wstęp)",
        "są dostępne tylko dla niektórych typów subskrypcji w Microsoft Azure",
        "The 2020 edition names no rule for this subscription type (it predates MCA; internal, support-plan, "
        "Entra-access and lightweight-trial offers are not named).",
        PlatformPolicy.UNKNOWN,
        "Judge it under the current edition (--ruleset current). " + RELAY,
        offer_in(*UNNAMED_2020),
        VM_LIKE,
    ),
    Rule(
        "2020-DATE-UNKNOWN",
        EDITION_2020_PL,
        "(wstęp)",
        "Ta zmiana w zachowaniu dotyczy tylko nowych subskrypcji i nowych wdrożeń od 15 listopada 2017.",
        "The rule depends on whether the subscription was created before 2017-11-15, which Azure Resource Manager "
        "does not expose.",
        PlatformPolicy.UNKNOWN,
        "Set `created` for this subscription in the audit config.",
        CREATED_UNKNOWN,
        VM_LIKE,
    ),
    Rule(
        "2020-PAYG",
        EDITION_2020_PL,
        "Płatność zgodnie z rzeczywistym użyciem",
        "W przypadku subskrypcji z opcją płatność zgodnie z rzeczywistym użyciem, które zostały utworzone po "
        "15 listopada 2017, będą obowiązywać ograniczenia techniczne, które blokują wiadomości e-mail wysyłane "
        "bezpośrednio z maszyn wirtualnych w ramach tych subskrypcji.",
        "Pay-As-You-Go created on or after 2017-11-15: blocked; the block can be removed on request.",
        PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE,
        PAYG_EXEMPTION,
        offer_in(Offer.PAY_AS_YOU_GO, Offer.PAYG_DEVTEST),
        VM_LIKE,
    ),
    Rule(
        "2020-CSP",
        EDITION_2020_PL,
        "Dostawca usług w chmurze (CSP)",
        'możesz utworzyć żądanie usunięcia ograniczenia w sekcji "łączność" w bloku "diagnozowanie i rozwiązywanie"',
        "Cloud Solution Provider created on or after 2017-11-15: blocked; the block can be removed on request.",
        PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE,
        CSP_EXEMPTION,
        offer_in(Offer.CSP),
        VM_LIKE,
    ),
    Rule(
        "2020-MPN-SPONSORSHIP",
        EDITION_2020_PL,
        "Microsoft Partner Network (MPN), BizSpark Plus lub Dostęp sponsorowany Azure",
        "W przypadku Microsoft Partner Network (MPN), BizSpark Plus lub Dostęp sponsorowany Azure subskrypcje, które "
        "zostały utworzone po 15 listopada 2017, zostaną nałożone ograniczenia techniczne",
        "MPN, BizSpark Plus and Azure Sponsorship created on or after 2017-11-15: blocked; an exemption can be "
        "requested through a support case.",
        PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE,
        SUPPORT_CASE_EXEMPTION,
        offer_in(Offer.MPN, Offer.BIZSPARK_PLUS, Offer.SPONSORSHIP),
        VM_LIKE,
    ),
    Rule(
        "2020-NO-EXEMPTION",
        EDITION_2020_PL,
        "MSDN, Azure — dostęp próbny, Azure w ramach programu licencjonowania Open, Education, Azure for Students, "
        "usługa Visual Studio i bezpłatna wersja próbna",
        "Nie zostaną udzielone żadne żądania usunięcia tego ograniczenia.",
        "MSDN, Azure Pass, Azure in Open, Education, Azure for Students, Visual Studio and Free Trial created on or "
        "after 2017-11-15: blocked, and no exemption is granted.",
        PlatformPolicy.BLOCKED,
        NO_EXEMPTION,
        offer_in(
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
        EDITION_2020_RU,
        "MSDN, Azure Pass, Azure с открытой лицензией, для образования, BizSpark и бесплатная пробная версия",
        "Запросы на удаление этого ограничения не будут выполнены.",
        "BizSpark created on or after 2017-11-15: blocked, and no exemption is granted (named only in the earlier "
        "ru-RU text; the later pl-PL text is silent on it).",
        PlatformPolicy.BLOCKED,
        NO_EXEMPTION,
        offer_in(Offer.BIZSPARK),
        VM_LIKE,
    ),
)
