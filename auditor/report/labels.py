"""What a person reads for each of port25-audit's machine values, in the HTML, the workbook and the terminal: one
table for every enum the reports show (a test keeps it whole). The CSV, JSON and OCSF keep the machine values."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from auditor.model import (
    AUDITED_TYPES,
    ChangeKind,
    Egress,
    ExceptionState,
    Offer,
    PlatformPolicy,
    PowerState,
    ResourceCategory,
    StaleWhy,
    Verdict,
)

LABELS: Mapping[type[StrEnum], Mapping[str, str]] = {
    Verdict: {
        Verdict.OPEN: "Open",
        Verdict.BLOCKED: "Blocked by Azure",
        Verdict.DENIED_BY_NETWORK: "Denied by network",
        Verdict.NOT_SUPPORTED: "Not supported",
        Verdict.UNKNOWN: "Unknown",
    },
    PlatformPolicy: {
        PlatformPolicy.NOT_BLOCKED: "Not blocked",
        PlatformPolicy.BLOCKED: "Blocked",
        PlatformPolicy.BLOCKED_EXEMPTION_AVAILABLE: "Blocked, exemption available",
        PlatformPolicy.EXEMPTED: "Exempted",
        PlatformPolicy.NOT_SUPPORTED: "Not supported",
        PlatformPolicy.UNKNOWN: "Unknown",
    },
    Egress: {
        Egress.PUBLIC_IP: "Public IP",
        Egress.NAT_GATEWAY: "NAT gateway",
        Egress.LOAD_BALANCER: "Load balancer",
        Egress.DEFAULT_OUTBOUND: "Default outbound access",
        Egress.FIREWALL: "Azure Firewall",
        Egress.APPLIANCE: "Network appliance",
        Egress.ON_PREMISES: "On-premises",
        Egress.NONE: "No way out",
        Egress.UNKNOWN: "Unknown",
    },
    Offer: {
        Offer.ENTERPRISE_AGREEMENT: "Enterprise Agreement",
        Offer.MCA_ENTERPRISE: "Customer Agreement, enterprise (MCA-E)",
        Offer.MCA_INDIVIDUAL: "Customer Agreement, bought online",
        Offer.ENTERPRISE_DEVTEST: "Enterprise Dev/Test",
        Offer.PAYG_DEVTEST: "Pay-As-You-Go Dev/Test",
        Offer.PAY_AS_YOU_GO: "Pay-As-You-Go",
        Offer.MSDN: "MSDN Platforms",
        Offer.VISUAL_STUDIO: "Visual Studio subscription",
        Offer.MPN: "Partner Network (MPN)",
        Offer.CSP: "Cloud Solution Provider (CSP)",
        Offer.FREE_TRIAL: "Free Trial",
        Offer.AZURE_PASS: "Azure Pass",
        Offer.AZURE_IN_OPEN: "Azure in Open",
        Offer.EDUCATION: "Education",
        Offer.AZURE_FOR_STUDENTS: "Azure for Students",
        Offer.STUDENTS_STARTER: "Azure for Students Starter",
        Offer.SPONSORSHIP: "Azure Sponsorship",
        Offer.BIZSPARK: "BizSpark",
        Offer.BIZSPARK_PLUS: "BizSpark Plus",
        Offer.LIGHTWEIGHT_TRIAL: "Lightweight trial",
        Offer.SUPPORT_PLAN: "Support plan",
        Offer.ENTRA_ID_ACCESS: "Access to Entra ID",
        Offer.INTERNAL: "Microsoft internal",
    },
    PowerState: {
        PowerState.RUNNING: "Running",
        PowerState.STOPPED: "Stopped",
        PowerState.DEALLOCATED: "Deallocated",
    },
    ResourceCategory: {
        ResourceCategory.VIRTUAL_MACHINE: "Virtual machine",
        ResourceCategory.SCALE_SET: "Scale set",
        ResourceCategory.APP_SERVICE: "App Service app",
        ResourceCategory.FIREWALL: "Azure Firewall",
        ResourceCategory.CONTAINER_APP: "Container App",
        ResourceCategory.CONTAINER_INSTANCE: "Container instance",
    },
    ExceptionState: {
        ExceptionState.ACCEPTED: "Accepted",
        ExceptionState.EXPIRED: "Expired",
    },
    StaleWhy: {
        StaleWhy.MATCHES_NOTHING: "Stale: matches no audited resource",
        StaleWhy.VERDICT_GONE: "Stale: its resources no longer have a verdict it accepts",
        StaleWhy.UNCHECKED: "Stale?: matches nothing read, and a list it may cover could not be read",
    },
    ChangeKind: {
        ChangeKind.NEW: "New",
        ChangeKind.REMOVED: "Removed",
        ChangeKind.NOT_READ: "Not read this time",
        ChangeKind.VERDICT_CHANGED: "Verdict changed",
        ChangeKind.EXCEPTION_EXPIRED: "Exception expired",
    },
}

# findings.csv's offer column says "unknown" where the offer could not be read (no Offer member stands for it)
UNKNOWN_OFFER = "unknown"
# The Azure resource types audited, as a person names them (slots apart from their sites).
TYPE_LABELS: Mapping[str, str] = {
    audited.resource_type.lower(): "App Service slot"
    if audited.parent_list is not None
    else LABELS[ResourceCategory][audited.category]
    for audited in AUDITED_TYPES
}


def label(enum: type[StrEnum], value: str | None) -> str:
    """A machine value of `enum` (a member, or its value as the tables hold it) as a person reads it; "" for none."""
    if value is None or value == "":
        return ""
    if enum is Offer and value == UNKNOWN_OFFER:
        return "Unknown"
    return LABELS[enum][value]


def type_label(resource_type: str) -> str:
    """An audited Azure resource type as a person names it (any other type as Azure spells it)."""
    return TYPE_LABELS.get(resource_type.lower(), resource_type)
