"""Billing refinement: where the identity may read billing accounts, mark MCA-E and Enterprise Dev/Test
subscriptions from the account's agreement and account type, which quota ids cannot tell apart.

Optional by permission: without billing read access this says so in one line, and the audit config and quota
ids decide as before. The audit config still wins over billing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from azure.core.credentials import TokenCredential
from azure.mgmt.billing import BillingManagementClient

from auditor.collect.api_versions import BILLING
from auditor.collect.paging import json_pages
from auditor.model import BillingFact, Offer

log = logging.getLogger(__name__)

MCA = "MicrosoftCustomerAgreement"
EA = "EnterpriseAgreement"
# Microsoft's offer and SKU ids (Cost Management's offer table; the Billing API's skuId for Azure plans).
ENTERPRISE_DEVTEST_OFFER = "MS-AZR-0148P"
AZURE_PLAN_DEVTEST_SKU = "0002"  # an MCA Azure plan for Dev/Test ("0001" is the plain Azure plan)


def _properties(item: Any) -> Mapping[str, Any]:
    properties = item.get("properties") if isinstance(item, Mapping) else None
    return properties if isinstance(properties, Mapping) else {}


def billing_fact(account: Any, subscription: Any) -> BillingFact | None:
    """What one billing subscription of one billing account says of its Azure subscription, if it decides."""
    account_properties, properties = _properties(account), _properties(subscription)
    subscription_id = str(properties.get("subscriptionId") or "").lower()
    if not subscription_id:
        return None
    agreement, kind = account_properties.get("agreementType"), account_properties.get("accountType")
    name = account_properties.get("displayName") or (account.get("name") if isinstance(account, Mapping) else "")
    if agreement == MCA and kind == "Enterprise":
        sku = str(properties.get("skuId") or "")
        if sku == AZURE_PLAN_DEVTEST_SKU:
            return BillingFact(
                subscription_id,
                Offer.ENTERPRISE_DEVTEST,
                f"Azure plan for Dev/Test (skuId {sku}) under the MCA-E billing account '{name}'",
            )
        return BillingFact(
            subscription_id, Offer.MCA_ENTERPRISE, f"Microsoft Customer Agreement, Enterprise account '{name}'"
        )
    if agreement == EA and str(properties.get("offerId") or "").upper() == ENTERPRISE_DEVTEST_OFFER:
        return BillingFact(
            subscription_id,
            Offer.ENTERPRISE_DEVTEST,
            f"Enterprise Dev/Test ({ENTERPRISE_DEVTEST_OFFER}) under the Enterprise Agreement account '{name}'",
        )
    return None


ACCOUNTS_PATH = "/providers/Microsoft.Billing/billingAccounts"
# The flags the SDK's list operations send, each at its default
ACCOUNTS_QUERY = {
    "includeAll": "false",
    "includeAllWithoutBillingProfiles": "false",
    "includeDeleted": "false",
    "includePendingAgreement": "false",
    "includeResellee": "false",
}
SUBSCRIPTIONS_QUERY = {"includeDeleted": "false", "includeTenantSubscriptions": "false", "includeFailed": "false"}


def read_billing(
    credential: TokenCredential, client_options: Mapping[str, Any], read_failures: tuple[type[BaseException], ...]
) -> tuple[tuple[BillingFact, ...], str]:
    """The billing facts the identity can read, and a one-line note when it could read none."""
    # The client wants a subscription id it never uses for these tenant-level reads.
    client = BillingManagementClient(credential, "00000000-0000-0000-0000-000000000000", **client_options)
    try:
        accounts = [a for a in json_pages(client, ACCOUNTS_PATH, BILLING, ACCOUNTS_QUERY) if isinstance(a, Mapping)]
    except read_failures as err:
        return (), _note(err)
    facts: list[BillingFact] = []
    unread: list[str] = []
    for account in accounts:
        name = account.get("name")
        if _properties(account).get("agreementType") not in (MCA, EA) or not isinstance(name, str) or not name:
            continue
        path = f"{ACCOUNTS_PATH}/{quote(name, safe='')}/billingSubscriptions"
        try:
            subscriptions: Iterable[Any] = list(json_pages(client, path, BILLING, SUBSCRIPTIONS_QUERY))
        except read_failures as err:
            unread.append(f"{name}: {_reason(err)}")
            continue
        facts += [fact for item in subscriptions if (fact := billing_fact(account, item)) is not None]
    note = ""
    if not accounts:
        note = "no billing account is visible to this identity; offers come from quota ids and the audit config"
    elif unread:
        note = f"the subscriptions of some billing accounts could not be read ({'; '.join(unread)})"
    return tuple(facts), note


def _reason(err: BaseException) -> str:
    status = getattr(err, "status_code", None)
    code = getattr(getattr(err, "error", None), "code", None)
    if status or code:
        return " ".join(str(part) for part in (f"HTTP {status}" if status else "", code or "") if part)
    said = " ".join(str(err).split())[:200]
    return f"{type(err).__name__}: {said}" if said else type(err).__name__


def _note(err: BaseException) -> str:
    return (
        f"billing accounts could not be read ({_reason(err)}): MCA-E and Enterprise Dev/Test come from the audit "
        "config and quota ids (give the identity a billing reader role to have them read)"
    )
