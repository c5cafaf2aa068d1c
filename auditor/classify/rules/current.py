"""The rules of the current edition of the article (`--ruleset current`, the default), in the order they are
tried: the first that speaks of the resource's category and applies decides."""

from __future__ import annotations

from auditor.classify.rules.rule import (
    ALWAYS,
    APP,
    APP_PATH_UNKNOWN,
    APP_WITHOUT_PATH,
    EXEMPTION_GRANTED,
    EXEMPTION_RECORDED,
    NOTHING_TO_REQUEST,
    OFFER_UNKNOWN,
    OTHER_PAAS,
    RELAY,
    SET_OFFER,
    SUBSCRIPTION_RULED,
    VM_LIKE,
    Edition,
    Rule,
    offer_in,
)
from auditor.model import Offer, PlatformPolicy, Ruleset

SECTIONS_IN_ENGLISH = {
    "Důležité": "Important",
    "Enterprise a MCA-E": "Enterprise and MCA-E",
    "(úvod)": "introduction",
    "Všechny ostatní typy předplatných": "All other subscription types",
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
    "virtuální počítače v tomto předplatném vyloučené.": "After the subscription is exempted from this block, its "
    "VMs \u201cmust be stopped, deallocated, and then restarted\u201d; then all VMs in that subscription are exempt. "
    "\u201cIf the virtual network owned by the exempted subscription has a delegated subnet (to an App Service "
    "Environment for example), you must add and remove a new temporary subnet.\u201d",
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
}

EDITION = Edition(
    Ruleset.CURRENT,
    "current edition",
    "002_ffedd479c7c75c57.txt",
    "cs",
    "Czech",
    "the article as published now; the copy carries no date",
    "Odstraňování potíží s odchozím připojením SMTP v Azure",
    "2025-07-28",
    SECTIONS_IN_ENGLISH,
    QUOTES_IN_ENGLISH,
)

DEVTEST_EXEMPTION = (
    "Request the exemption: Azure portal \u2192 the virtual network \u2192 Diagnose and solve problems \u2192 "
    "Cannot send email (SMTP-Port 25), run the diagnostics; then stop and start the VMs. Or: " + RELAY
)
APP_PATH = (
    "Only regional VNet integration with the app's outbound traffic routed into the VNet (the app's "
    "Outbound internet traffic setting, or Route All), or an App Service Environment v3, can carry port 25; "
    "otherwise, s" + RELAY[1:]
)

RULES: tuple[Rule, ...] = (
    Rule(
        "CUR-PAAS",
        EDITION,
        "Důležité",
        "Odesílání e-mailů na portu 25 není podporováno pro všechny ostatní prostředky Azure Typu platforma jako "
        "služba (PaaS).",
        "Sending mail on port 25 is not supported from any other Azure PaaS resource (Container Apps, Container "
        "Instances, …).",
        PlatformPolicy.NOT_SUPPORTED,
        RELAY,
        ALWAYS,
        OTHER_PAAS,
    ),
    Rule(
        "CUR-APP-NOPATH",
        EDITION,
        "Důležité",
        "Pro odchozí komunikaci ve službě Aplikace Azure Service a Azure Functions je možné použít port 25 "
        "prostřednictvím funkce integrace virtuální sítě nebo při použití služby App Service Environment v3.",
        "App Service and Functions reach port 25 only through VNet integration or on an App Service Environment v3; "
        "this app has neither.",
        PlatformPolicy.NOT_SUPPORTED,
        APP_PATH,
        APP_WITHOUT_PATH,
        APP,
    ),
    Rule(
        "CUR-APP-UNKNOWN",
        EDITION,
        "Důležité",
        "Pro odchozí komunikaci ve službě Aplikace Azure Service a Azure Functions je možné použít port 25 "
        "prostřednictvím funkce integrace virtuální sítě nebo při použití služby App Service Environment v3.",
        "Whether this app has a port-25 path (routed VNet integration or ASE v3) could not be determined.",
        PlatformPolicy.UNKNOWN,
        APP_PATH,
        APP_PATH_UNKNOWN,
        APP,
    ),
    Rule(
        "CUR-EA-MCAE",
        EDITION,
        "Enterprise a MCA-E",
        "U virtuálních počítačů a služby Azure Firewall nasazených ve standardních smlouva Enterprise nebo Smlouva "
        "se zákazníkem Microsoftu pro předplatná MCA-E (Enterprise) nejsou odchozí připojení SMTP na portu TCP 25 "
        "blokovaná.",
        "Enterprise Agreement and MCA-E: outbound TCP 25 is not blocked (delivery is not guaranteed).",
        PlatformPolicy.NOT_BLOCKED,
        NOTHING_TO_REQUEST,
        offer_in(Offer.ENTERPRISE_AGREEMENT, Offer.MCA_ENTERPRISE),
        SUBSCRIPTION_RULED,
    ),
    Rule(
        "CUR-EXEMPTED",
        EDITION,
        "Enterprise a MCA-E",
        "Po vyloučení předplatného z tohoto bloku a zastavení a restartování virtuálních počítačů budou všechny "
        "virtuální počítače v tomto předplatném vyloučené.",
        "An exemption is recorded for the subscription: its VMs (and scale-set VMs) are exempt.",
        PlatformPolicy.EXEMPTED,
        EXEMPTION_RECORDED,
        EXEMPTION_GRANTED,
        VM_LIKE,
    ),
    Rule(
        "CUR-OFFER-UNKNOWN",
        EDITION,
        "(úvod)",
        "Odchozí e-mailové zprávy, které se odesílají přímo do externích domén (například outlook.com a gmail.com) "
        "z virtuálního počítače, jsou dostupné jenom pro určité typy předplatných v Microsoft Azure.",
        "The rule depends on the subscription type, which is not known.",
        PlatformPolicy.UNKNOWN,
        SET_OFFER,
        OFFER_UNKNOWN,
        SUBSCRIPTION_RULED,
    ),
    Rule(
        "CUR-DEVTEST-NONVM",
        EDITION,
        "Enterprise a MCA-E",
        "Výjimka se vztahuje pouze na požadované předplatné a pouze na přenosy virtuálních počítačů směrované přímo "
        "na internet.",
        "Enterprise Dev/Test blocks TCP 25, and its exemption covers only VM traffic routed directly to the internet.",
        PlatformPolicy.BLOCKED,
        RELAY,
        offer_in(Offer.ENTERPRISE_DEVTEST),
        SUBSCRIPTION_RULED - VM_LIKE,
    ),
    Rule(
        "CUR-DEVTEST",
        EDITION,
        "Enterprise a MCA-E",
        "U předplatných Enterprise pro vývoj/testování je ve výchozím nastavení blokovaný port 25.",
        "Enterprise Dev/Test: TCP 25 is blocked by default; the block can be removed.",
        PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE,
        DEVTEST_EXEMPTION,
        offer_in(Offer.ENTERPRISE_DEVTEST),
        VM_LIKE,
    ),
    Rule(
        "CUR-OTHER",
        EDITION,
        "Všechny ostatní typy předplatných",
        "Platforma Azure blokuje odchozí připojení SMTP na portu TCP 25 pro nasazené virtuální počítače.",
        "Every subscription type other than EA, MCA-E and Enterprise Dev/Test: TCP 25 is blocked.",
        PlatformPolicy.BLOCKED,
        RELAY,
        ALWAYS,
        SUBSCRIPTION_RULED,
    ),
)
