"""Subscription offers: what each `subscriptionPolicies.quotaId` stands for, and where that is documented.

Where one quotaId covers offers with different port-25 rules, the table takes the offer whose rules report
*more* exposure (docs/design.md §2) and names the others, so the report can say which offers share the value and the
audit config can say which one a subscription really is.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.model import BillingFact, Offer, OfferReading, SubscriptionFacts

COST_MANAGEMENT_OFFERS = (
    "https://learn.microsoft.com/azure/cost-management-billing/costs/understand-cost-mgt-data"
    "#supported-microsoft-azure-offers"
)
OPENAI_QUOTA_BY_OFFER = (
    "https://learn.microsoft.com/azure/ai-foundry/openai/quotas-limits (table 'Quota allocation/Offer type')"
)


@dataclass(frozen=True)
class QuotaIdEntry:
    quota_id: str
    offer: Offer
    offers_behind_it: str
    source: str

    @property
    def is_shared(self) -> bool:
        return ";" in self.offers_behind_it


QUOTA_IDS: tuple[QuotaIdEntry, ...] = (
    QuotaIdEntry(
        "EnterpriseAgreement_2014-09-01",
        Offer.ENTERPRISE_AGREEMENT,
        "Microsoft Azure Enterprise (MS-AZR-0017P); Microsoft Customer Agreement 'Microsoft Azure Plan' "
        "(MCA-E or another MCA)",
        f"{COST_MANAGEMENT_OFFERS}; {OPENAI_QUOTA_BY_OFFER} ('Enterprise and MCA-E')",
    ),
    QuotaIdEntry(
        "MSDNDevTest_2014-09-01",
        Offer.ENTERPRISE_DEVTEST,
        "Enterprise Dev/Test (MS-AZR-0148P); MCA 'Microsoft Azure Plan for Dev/Test'; Pay-As-You-Go Dev/Test "
        "(MS-AZR-0023P); Visual Studio Test Professional (MS-AZR-0060P)",
        COST_MANAGEMENT_OFFERS,
    ),
    QuotaIdEntry("PayAsYouGo_2014-09-01", Offer.PAY_AS_YOU_GO, "Pay-As-You-Go (MS-AZR-0003P)", COST_MANAGEMENT_OFFERS),
    QuotaIdEntry(
        "MSDN_2014-09-01",
        Offer.MSDN,
        "MSDN Platforms (MS-AZR-0062P); Visual Studio Professional (MS-AZR-0059P); "
        "Visual Studio Enterprise (MS-AZR-0063P)",
        COST_MANAGEMENT_OFFERS,
    ),
    QuotaIdEntry(
        "MPN_2014-09-01",
        Offer.MPN,
        "Microsoft Cloud Partner Program (MS-AZR-0025P); Visual Studio Enterprise - MPN (MS-AZR-0029P)",
        COST_MANAGEMENT_OFFERS,
    ),
    QuotaIdEntry(
        "CSP_2015-05-01",
        Offer.CSP,
        "Cloud Solution Provider (MS-AZR-0145P), Azure plan through a partner",
        COST_MANAGEMENT_OFFERS,
    ),
    QuotaIdEntry("CSP_MG_2017-12-01", Offer.CSP, "Azure plan through a partner (MCA)", COST_MANAGEMENT_OFFERS),
    QuotaIdEntry(
        "CSPDEVTEST_2018-05-01",
        Offer.CSP,
        "CSP Integration Sandbox / Azure plan through a partner",
        f"{COST_MANAGEMENT_OFFERS}; {OPENAI_QUOTA_BY_OFFER}",
    ),
    QuotaIdEntry("FreeTrial_2014-09-01", Offer.FREE_TRIAL, "Free Trial (MS-AZR-0044P)", COST_MANAGEMENT_OFFERS),
    QuotaIdEntry(
        "AzurePass_2014-09-01", Offer.AZURE_PASS, "Azure Pass (MS-AZR-0120P and others)", COST_MANAGEMENT_OFFERS
    ),
    QuotaIdEntry("AzureInOpen_2014-09-01", Offer.AZURE_IN_OPEN, "Azure in Open (MS-AZR-0111P)", COST_MANAGEMENT_OFFERS),
    QuotaIdEntry(
        "AzureForStudents_2018-01-01",
        Offer.AZURE_FOR_STUDENTS,
        "Azure for Students (MS-AZR-0170P)",
        COST_MANAGEMENT_OFFERS,
    ),
    QuotaIdEntry(
        "DreamSpark_2015-02-01",
        Offer.STUDENTS_STARTER,
        "Azure for Students Starter (MS-AZR-0144P)",
        COST_MANAGEMENT_OFFERS,
    ),
    QuotaIdEntry(
        "Sponsored_2016-01-01", Offer.SPONSORSHIP, "Microsoft Azure Sponsorship (MS-AZR-0036P)", COST_MANAGEMENT_OFFERS
    ),
    QuotaIdEntry(
        "Default_2014-09-01", Offer.SUPPORT_PLAN, "Support plans (MS-AZR-0041P, 0042P, 0043P)", COST_MANAGEMENT_OFFERS
    ),
    QuotaIdEntry("LightweightTrial_2016-09-01", Offer.LIGHTWEIGHT_TRIAL, "Azure_MS-AZR-0150P", OPENAI_QUOTA_BY_OFFER),
    QuotaIdEntry(
        "BizSpark_2014-09-01",
        Offer.BIZSPARK,
        "BizSpark",
        "Azure portal's own quota-id constants (QuotaIds.BizSpark), public in its shipped scripts",
    ),
    QuotaIdEntry(
        "BizSparkPlus_2014-09-01",
        Offer.BIZSPARK_PLUS,
        "BizSpark Plus",
        "Azure portal's own quota-id constants (QuotaIds.BizSparkPlus), public in its shipped scripts",
    ),
    QuotaIdEntry(
        "Internal_2014-09-01",
        Offer.INTERNAL,
        "Microsoft-internal subscriptions",
        "Microsoft's REST API example Subscriptions_List (shared/arm-examples/resources/GetSubscriptions.json); "
        "Azure portal's quota-id constants (QuotaIds.Internal)",
    ),
    QuotaIdEntry(
        "AAD_2015-09-01",
        Offer.ENTRA_ID_ACCESS,
        "'Access to Azure Active Directory' (the subscription that comes with a Microsoft Entra tenant)",
        "Azure/AzOps default ExcludedSubOffer list; subscriptions of that display name in public recordings",
    ),
)

_BY_QUOTA_ID = {entry.quota_id.lower(): entry for entry in QUOTA_IDS}

OFFER_DESCRIPTIONS: dict[Offer, str] = {
    Offer.ENTERPRISE_AGREEMENT: "Enterprise Agreement (MS-AZR-0017P)",
    Offer.MCA_ENTERPRISE: "Microsoft Customer Agreement - Enterprise (MCA-E) Azure plan",
    Offer.MCA_INDIVIDUAL: "Microsoft Customer Agreement bought online (not MCA-E)",
    Offer.ENTERPRISE_DEVTEST: "Enterprise Dev/Test (MS-AZR-0148P)",
    Offer.PAYG_DEVTEST: "Pay-As-You-Go Dev/Test (MS-AZR-0023P)",
    Offer.PAY_AS_YOU_GO: "Pay-As-You-Go (MS-AZR-0003P)",
    Offer.MSDN: "MSDN Platforms (MS-AZR-0062P)",
    Offer.VISUAL_STUDIO: "Visual Studio Enterprise / Professional / Test Professional subscriptions",
    Offer.MPN: "Microsoft Partner Network / Cloud Partner Program (MS-AZR-0025P)",
    Offer.CSP: "Cloud Solution Provider, or Azure plan through a partner",
    Offer.FREE_TRIAL: "Free Trial (MS-AZR-0044P)",
    Offer.AZURE_PASS: "Azure Pass",
    Offer.AZURE_IN_OPEN: "Azure in Open (MS-AZR-0111P)",
    Offer.EDUCATION: "Education offers (Azure for Education, Azure Dev Tools for Teaching)",
    Offer.AZURE_FOR_STUDENTS: "Azure for Students (MS-AZR-0170P)",
    Offer.STUDENTS_STARTER: "Azure for Students Starter (MS-AZR-0144P)",
    Offer.SPONSORSHIP: "Microsoft Azure Sponsorship (MS-AZR-0036P)",
    Offer.BIZSPARK: "BizSpark",
    Offer.BIZSPARK_PLUS: "BizSpark Plus",
    Offer.LIGHTWEIGHT_TRIAL: "Lightweight trial (MS-AZR-0150P)",
    Offer.SUPPORT_PLAN: "Support plan subscriptions (MS-AZR-0041P/0042P/0043P)",
    Offer.ENTRA_ID_ACCESS: "'Access to Azure Active Directory' subscription",
    Offer.INTERNAL: "Microsoft-internal subscription",
}


def quota_id_entry(quota_id: str | None) -> QuotaIdEntry | None:
    if not quota_id:
        return None
    return _BY_QUOTA_ID.get(quota_id.lower())


def read_offer(quota_id: str | None, facts: SubscriptionFacts, billing: BillingFact | None = None) -> OfferReading:
    """The subscription's offer: the audit config wins, then its billing account, then the quotaId table."""
    if facts.offer is not None:
        return OfferReading(facts.offer, quota_id, "config", "offer set in the audit config")
    if billing is not None:
        return OfferReading(billing.offer, quota_id, "billing", f"from its billing account: {billing.source}")
    entry = quota_id_entry(quota_id)
    if entry is None:
        what = f"quotaId '{quota_id}' is not one port25-audit knows" if quota_id else "Azure returned no quotaId"
        return OfferReading(None, quota_id, "unknown", f"{what}; set `offer` for this subscription in the audit config")
    note = f"from quotaId {entry.quota_id}"
    if entry.is_shared:
        note += (
            f", which several offers share ({entry.offers_behind_it}); taken as {OFFER_DESCRIPTIONS[entry.offer]}, "
            "the reading with more exposure: set `offer` in the audit config if it is another"
        )
    return OfferReading(entry.offer, entry.quota_id, "quotaId", note)
