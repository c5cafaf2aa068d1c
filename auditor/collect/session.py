"""One signed-in connection to Azure Resource Manager, as both collectors use it: the SDK clients of a
subscription (sharing one transport, rate limiter and counters), the subscription list, and what billing accounts
say of the subscriptions read."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from azure.core.credentials import TokenCredential
from azure.core.pipeline.transport import HttpTransport
from azure.mgmt.resource.subscriptions import SubscriptionClient

from auditor.collect.api_versions import MANAGEMENT_GROUPS, SUBSCRIPTIONS
from auditor.collect.billing import read_billing
from auditor.collect.clients import Clients
from auditor.collect.errors import READ_FAILURES, read_all
from auditor.collect.extras import with_extras
from auditor.collect.interface import DEFAULT_MAX_WORKERS, NO_EXTRAS, Extras
from auditor.collect.lists import MalformedItem, malformed, understood
from auditor.collect.paging import json_pages
from auditor.collect.policy import DEFAULT_HOST, CappedRetryPolicy, ReadPolicy
from auditor.collect.throttle import RateLimiter, ScanStats
from auditor.collect.tokens import SharedTokenCredential, shared
from auditor.model import (
    GUID,
    KNOWN_STATES,
    MANAGEMENT_GROUP_PREFIX,
    SUBSCRIPTION_LIST,
    CollectionError,
    ErrorCode,
    Scope,
    Subscription,
    SubscriptionInventory,
    TenantInventory,
    descendants_list,
)

log = logging.getLogger(__name__)

RETRY_TOTAL = 8
MANAGEMENT_GROUP_SUBSCRIPTION = "microsoft.management/managementgroups/subscriptions"
MANAGEMENT_GROUP_CHILD = "microsoft.management/managementgroups"


class ArmSession:
    """The credential, transport, rate limiter and counters every request of a run shares."""

    def __init__(
        self,
        credential: TokenCredential | SharedTokenCredential,
        transport: HttpTransport | None = None,
        base_url: str | None = None,
        *,
        limiter: RateLimiter | None = None,
        stats: ScanStats | None = None,
        credential_scopes: Sequence[str] | None = None,
        extras: Extras = NO_EXTRAS,
        max_workers: int = DEFAULT_MAX_WORKERS,
    ) -> None:
        self.credential = shared(credential)
        self._extras = extras
        self._max_workers = max(1, max_workers)
        self.limiter = limiter or RateLimiter()
        self.stats = stats or ScanStats()
        self._options: dict[str, Any] = {}
        if transport is not None:
            self._options["transport"] = transport
        if base_url is not None:
            self._options["base_url"] = base_url
        # requests go to the cloud's own Resource Manager (Resource Graph is on the same host): nowhere else
        self._hosts = frozenset({(urlsplit(base_url).hostname or "") if base_url else DEFAULT_HOST})
        if credential_scopes is not None:
            self._options["credential_scopes"] = list(credential_scopes)

    def client_options(self) -> dict[str, Any]:
        """Per client: its own policy objects (a pipeline links them), sharing the limiter, stats and transport."""
        return {
            **self._options,
            "custom_hook_policy": ReadPolicy(self.limiter, self.stats, self._hosts),
            "retry_policy": CappedRetryPolicy(retry_total=RETRY_TOTAL),
        }

    def clients(self, subscription_id: str) -> Clients:
        return Clients(lambda kind: kind(self.credential, subscription_id, **self.client_options()))

    def visible_subscriptions(self, scope: Scope | Sequence[str] = ()) -> tuple[list[Subscription], TenantInventory]:
        """The subscriptions to read, and an inventory of those not read: scope entries the identity does not see
        (or, when the list itself fails, every entry of the scope), and those excluded or in a state not audited,
        each saying why. A management group that cannot be read is an error of the run, never an empty scope."""
        scope = Scope.of(scope)
        client = SubscriptionClient(self.credential, **self.client_options())
        # The CLI says a failed subscription list itself, in one line, even with --quiet.
        problems: list[str] = []
        listed, error = read_all(
            SUBSCRIPTION_LIST,
            "GET /subscriptions",
            lambda: understood(json_pages(client, "/subscriptions", SUBSCRIPTIONS), _subscription, problems),
            logged=False,
        )
        if error is not None:
            return [], TenantInventory(subscriptions=tuple(_unreadable(scope.subscriptions)), errors=(error,))
        subscriptions = _once_each(listed)
        notes = [malformed(SUBSCRIPTION_LIST, "GET /subscriptions", problems)] if problems else []
        groups: dict[str, str] = {}  # subscription id -> the management group it sits in directly
        for group in scope.management_groups:
            found, failure = self._management_group(client, group)
            groups.update(found)
            if failure is not None:
                notes.append(failure)
        wanted = {*scope.subscriptions, *groups}
        if scope.named:
            subscriptions = [s for s in subscriptions if s.subscription_id in wanted]
        subscriptions = [replace(s, management_group=groups.get(s.subscription_id, "")) for s in subscriptions]
        excluded = dict(scope.excluded)
        chosen: list[Subscription] = []
        left_out: list[SubscriptionInventory] = []
        for subscription in subscriptions:
            if subscription.subscription_id not in excluded and _audited_state(subscription.state, scope):
                chosen.append(subscription)
            else:
                left_out.append(_left_out(subscription, excluded))
        missing = sorted(wanted - {s.subscription_id for s in subscriptions} - set(excluded))
        self.stats.add(subscriptions_total=len(chosen))
        unread = tuple(_unreadable(missing, groups))
        return chosen, TenantInventory(subscriptions=(*unread, *left_out), errors=tuple(notes))

    def _management_group(self, client: Any, group: str) -> tuple[dict[str, str], CollectionError | None]:
        """The subscriptions under a management group, at any depth, each with the group it sits in directly."""
        path = f"{MANAGEMENT_GROUP_PREFIX}{group}/descendants"
        items, error = read_all(
            descendants_list(group),
            f"GET {path}",
            lambda: json_pages(client, path, MANAGEMENT_GROUPS),
        )
        found: dict[str, str] = {}
        problems: list[str] = []
        for number, item in enumerate(items, start=1):
            kind = str(item.get("type", "")).lower() if isinstance(item, dict) else ""
            if kind == MANAGEMENT_GROUP_CHILD:
                continue  # a management group under it: its subscriptions are listed too, at any depth
            if kind != MANAGEMENT_GROUP_SUBSCRIPTION:
                what = f"type {item.get('type')!r:.80}" if isinstance(item, dict) else type(item).__name__
                problems.append(f"item {number}: neither a subscription nor a management group ({what})")
                continue
            name = item.get("name")
            if not isinstance(name, str) or not GUID.fullmatch(name.strip()):
                problems.append(f"item {number}: a subscription whose name {name!r:.60} is not a subscription id")
                continue
            properties = item.get("properties")
            parent = properties.get("parent") if isinstance(properties, dict) else None
            parent_id = str((parent.get("id") if isinstance(parent, dict) else None) or f"/{group}")
            found[name.strip().lower()] = parent_id.rsplit("/", 1)[-1]
        if problems:
            left_out = malformed(descendants_list(group), f"GET {path}", problems)
            log.warning("could not read %s", left_out.describe())
            error = left_out if error is None else error
        return found, error

    def tenant(self, inventories: Sequence[SubscriptionInventory], unreadable: TenantInventory) -> TenantInventory:
        """The run's inventory: the subscriptions read, those that could not be, what billing accounts say of
        them (MCA-E, Enterprise Dev/Test), and the extras the run asked for. Billing is not asked when the
        subscription list itself failed."""
        billing, note = (
            ((), "") if unreadable.errors else read_billing(self.credential, self.client_options(), READ_FAILURES)
        )
        tenant = replace(
            unreadable, subscriptions=tuple(inventories) + unreadable.subscriptions, billing=billing, billing_note=note
        )
        return with_extras(tenant, self.clients, self._max_workers, self._extras)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _subscription(raw: Any) -> Subscription:
    """A subscription as Subscriptions - List returns it."""
    subscription_id = raw.get("subscriptionId") if isinstance(raw, Mapping) else None
    if not isinstance(subscription_id, str) or not GUID.fullmatch(subscription_id.strip()):
        shown = f"subscriptionId {subscription_id!r:.60}" if isinstance(raw, Mapping) else type(raw).__name__
        raise MalformedItem(f"not a subscription: {shown} is not a subscription id")
    policies = raw.get("subscriptionPolicies")
    quota_id = policies.get("quotaId") if isinstance(policies, Mapping) else None
    return Subscription(
        subscription_id=subscription_id.strip().lower(),
        display_name=_text(raw.get("displayName")),
        state=_text(raw.get("state")),
        tenant_id=_text(raw.get("tenantId")),
        quota_id=_text(quota_id) or None,
    )


def _once_each(subscriptions: Sequence[Subscription]) -> list[Subscription]:
    """The subscription list without repeats (a subscription listed twice would be read twice, and its second
    reading would see every page as one already read)."""
    for subscription_id, times in Counter(s.subscription_id for s in subscriptions).items():
        if times > 1:
            log.warning(
                "subscription %s is listed %d times by the subscription list; audited once", subscription_id, times
            )
    first = {s.subscription_id: s for s in reversed(subscriptions)}  # the first listing wins
    return [first[subscription_id] for subscription_id in dict.fromkeys(s.subscription_id for s in subscriptions)]


def _audited_state(state: str, scope: Scope) -> bool:
    """A state Azure does not document (or none) is read: only the states known to stop resources are left out."""
    return state.lower() in scope.states or state.lower() not in KNOWN_STATES


def _left_out(subscription: Subscription, excluded: dict[str, str]) -> SubscriptionInventory:
    """A subscription the audit does not read, by choice, saying why."""
    reason = excluded.get(subscription.subscription_id)
    if reason is not None:
        said = f"excluded: {reason}" if reason else "excluded"
    else:
        said = (
            f"not audited: its state is {subscription.state} (its resources cannot run; "
            f"--include-state {subscription.state.lower()} audits it)"
        )
    log.info("subscription %s %s", subscription.subscription_id, said)
    return SubscriptionInventory(subscription, skipped=said)


def _unreadable(
    subscription_ids: Iterable[str], groups: dict[str, str] | None = None
) -> Iterator[SubscriptionInventory]:
    for subscription_id in subscription_ids:
        group = (groups or {}).get(subscription_id.lower(), "")
        subscription = Subscription(subscription_id.lower(), "", "Unknown", "", None, group)
        error = CollectionError(
            SUBSCRIPTION_LIST,
            "GET /subscriptions",
            "the subscription is not in the list of subscriptions the signed-in identity can see",
            None,
            ErrorCode.NOT_VISIBLE,
        )
        log.warning("could not read subscription %s: %s", subscription_id, error.message)
        yield SubscriptionInventory(subscription, errors=(error,))
